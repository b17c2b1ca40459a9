// Produces greet requests to the topic "names": key the name, value {"name": ...} (example/GreetRequest).
// Usage: node produce-names.mjs <broker host:port> <name>...
import { Producer, stringSerializers } from '@platformatic/kafka';

const [broker, ...names] = process.argv.slice(2);
if (!broker || names.length === 0) {
  console.error('usage: node produce-names.mjs <broker host:port> <name>...');
  process.exit(2);
}
const producer = new Producer({ clientId: 'greeter-names', bootstrapBrokers: [broker], serializers: stringSerializers });
try {
  await producer.send({ messages: names.map((name) => ({ topic: 'names', key: name, value: JSON.stringify({ name }) })) });
  console.log(`produced ${names.length} name(s) to names`);
} finally {
  await producer.close();
}
