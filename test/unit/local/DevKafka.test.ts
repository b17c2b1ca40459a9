import { consumePosition } from '../../../runtime-lambda/local/DevKafka';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import type { KafkaIngressSpec, StartupPosition } from '../../../runtime-lambda/module/model';

const spec = (startupPosition: StartupPosition, autoOffsetResetPosition: 'earliest' | 'latest' = 'latest'): KafkaIngressSpec => ({
  kind: 'kafka',
  source: { file: 'module.yaml', document: 2, kind: 'io.statefun.kafka.v1/ingress' },
  id: 'example/names',
  address: 'kafka:9092',
  consumerGroupId: 'g',
  topics: [{ name: 'names', valueType: 'io.statefun.types/string', targets: ['example/person'] }],
  startupPosition,
  autoOffsetResetPosition,
  properties: {},
});

describe('Function: consumePosition', () => {
  it.each([
    ['earliest, first start', spec({ type: 'earliest' }), false, { mode: 'earliest', fallbackMode: 'earliest' }],
    ['latest, first start', spec({ type: 'latest' }), false, { mode: 'latest', fallbackMode: 'latest' }],
    ['earliest, resumed from the state file', spec({ type: 'earliest' }), true, { mode: 'committed', fallbackMode: 'earliest' }],
    ['latest, resumed from the state file', spec({ type: 'latest' }), true, { mode: 'committed', fallbackMode: 'latest' }],
    ['group-offsets, first start', spec({ type: 'group-offsets' }, 'earliest'), false, { mode: 'committed', fallbackMode: 'earliest' }],
    ['group-offsets, resumed', spec({ type: 'group-offsets' }), true, { mode: 'committed', fallbackMode: 'latest' }],
  ])('maps %s', (_, ingress, resumed, expected) => {
    // Act
    const position = consumePosition(ingress, resumed, 'module.yaml, document 2');

    // Assess
    expect(position).toEqual(expected);
  });

  it.each([
    ['date', { type: 'date', date: new Date('2020-02-01T04:15:00Z') }],
    ['specific-offsets', { type: 'specific-offsets', offsets: { 'names/0': 3 } }],
  ] as [string, StartupPosition][])('refuses %s, naming where and what dev takes', (name, position) => {
    // Act
    const act = () => consumePosition(spec(position), false, 'module.yaml, document 2');

    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(`module.yaml, document 2: startupPosition type ${name} does not run under statefun dev: use earliest, latest or group-offsets (with autoOffsetResetPosition), or deploy the module (cdk deploy)`);
  });
});
