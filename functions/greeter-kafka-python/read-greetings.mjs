// Prints the topic "greetings" from its start, each record's key, value and statefun-id header,
// dropping duplicates by statefun-id; Ctrl-C to stop.
// Usage: node read-greetings.mjs <broker host:port>
import { Consumer, stringDeserializers } from '@platformatic/kafka';

const [broker] = process.argv.slice(2);
if (!broker) {
  console.error('usage: node read-greetings.mjs <broker host:port>');
  process.exit(2);
}
const consumer = new Consumer({ groupId: `greetings-reader-${process.pid}`, clientId: 'greetings-reader', bootstrapBrokers: [broker], deserializers: stringDeserializers });
const stream = await consumer.consume({ topics: ['greetings'], mode: 'earliest' });
process.once('SIGINT', () => void consumer.close(true));
const seen = new Set();
for await (const message of stream) {
  const id = message.headers.get('statefun-id');
  if (id !== undefined && seen.has(id)) continue;
  if (id !== undefined) seen.add(id);
  console.log(`${message.key}: ${message.value}   (statefun-id ${id})`);
}
