/*
 * The StateFun playground's JavaScript greeter (apache/flink-statefun-playground,
 * javascript/greeter/functions.js), written with the official SDK (npm apache-flink-statefun)
 * as its docs write it: only the imports are ES modules, and the SDK instance is exported
 * instead of being served with http.createServer (lambda.ts serves it as a Lambda).
 */
import { Context, Message, StateFun, egressMessageBuilder, messageBuilder } from 'apache-flink-statefun';

interface GreetRequest {
  name: string;
  visits?: number;
}

interface EgressRecord {
  topic: string;
  payload: string;
}

export const GreetRequestType = StateFun.jsonType<GreetRequest>('example/GreetRequest');
export const EgressRecordType = StateFun.jsonType<EgressRecord>('io.statefun.playground/EgressRecord');

/** A person: counts their visits and asks the greeter for a greeting. */
async function person(context: Context, message: Message): Promise<void> {
  // update the visit count
  const visits = (context.storage.visits ?? 0) + 1;
  context.storage.visits = visits;

  // enrich the request with the number of visits
  const request = message.as(GreetRequestType)!; // null only for a value-less message, which the runtime never sends
  request.visits = visits;

  // forward it to the greeter of this person, which picks a greeting for that many visits
  context.send(
    messageBuilder({
      typename: 'example/greeter',
      id: request.name,
      value: request,
      valueType: GreetRequestType,
    }),
  );
}

/** The greeter: writes a greeting to the playground egress's `greetings` topic. */
async function greeter(context: Context, message: Message): Promise<void> {
  const request = message.as(GreetRequestType)!;
  const greeting = await computeFancyGreeting(request.name, request.visits ?? 0);
  const egressRecord: EgressRecord = { topic: 'greetings', payload: greeting };

  context.send(
    egressMessageBuilder({
      typename: 'io.statefun.playground/egress',
      value: egressRecord,
      valueType: EgressRecordType,
    }),
  );
}

async function computeFancyGreeting(name: string, seen: number): Promise<string> {
  if (seen === 0) return '';
  if (seen === 1) return `Welcome ${name}`;
  if (seen === 2) return `Nice to see you again ${name}`;
  if (seen === 3) return `Third time is a charm ${name}`;
  return `Nice to see you at the ${seen}-nth time ${name}!`;
}

export const statefun = new StateFun();

statefun.bind({
  typename: 'example/person',
  fn: person,
  specs: [{ name: 'visits', type: StateFun.intType() }],
});

statefun.bind({
  typename: 'example/greeter',
  fn: greeter,
});
