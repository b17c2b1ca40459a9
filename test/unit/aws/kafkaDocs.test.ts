import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKafkaIngresses } from '../../../runtime-lambda/aws/envConfig';
import { parseEgresses } from '../../../runtime-lambda/handlers/relay';

/** The `NAME='json'` lines of the doc's bash blocks. */
function envLines(doc: string): [string, string][] {
  const text = readFileSync(join(__dirname, '../../../docs', doc), 'utf8');
  return [...text.matchAll(/^(STATEFUN_[A-Z_]+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]);
}

describe('docs/kafka.md', () => {
  it('shows environment values the handlers accept', () => {
    // Prepare
    const lines = envLines('kafka.md');

    // Act
    const parsed = lines.map(([name, value]) => (name === 'STATEFUN_KAFKA_INGRESSES' ? parseKafkaIngresses({ [name]: value }) : parseEgresses({ [name]: value })));

    // Assess
    expect(lines.map(([name]) => name)).toEqual(['STATEFUN_KAFKA_INGRESSES', 'STATEFUN_EGRESSES', 'STATEFUN_EGRESSES']);
    expect(parsed[0]).toMatchObject({ names: { functionType: 'example/person', valueType: 'io.statefun.types/string' }, orders: { functionType: 'shop/cart' } });
    expect(parsed[1]).toEqual({ 'example/greets': { kafkaProducerRecordTopics: ['greetings'], kafkaCluster: { bootstrapServers: ['b-1.msk.example.com:9098', 'b-2.msk.example.com:9098'], sasl: { mechanism: 'AWS_MSK_IAM' } } } });
    expect(parsed[2]).toEqual({ 'shop/events': { eventBus: 'orders', source: 'shop', detailType: 'OrderPlaced' } });
  });
});
