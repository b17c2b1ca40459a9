import { Address } from '../../../runtime-lambda/core/Address';
import { LocalRuntime } from '../../../runtime-lambda/local/LocalRuntime';
import { Types } from '../../../runtime-lambda/sdk';
import { app } from '../../../functions/greeter/app';

describe('README tour: the greeter', () => {
  it('greets, counts per name, audits first visits, and reminds after a minute of simulated time', async () => {
    // Prepare
    const greetings: string[] = [];
    const runtime = new LocalRuntime({
      functions: app.resolver(),
      ingresses: [{ name: 'names', target: 'example/greeter' }],
      egresses: { 'example/greetings': (record) => void greetings.push(Types.string.deserialize(record.argument.value!)) },
    });
    const name = (text: string) => ({ typename: Types.string.typename, value: Types.string.serialize(text) });

    // Act
    runtime.ingest('names', 'ada', name('ada'));
    runtime.ingest('names', 'ada', name('ada'));
    runtime.ingest('names', 'bob', name('bob'));
    await runtime.runUntilIdle();
    const beforeReminders = [...greetings];
    await runtime.advanceBy(60_000);

    // Assess
    expect(beforeReminders.sort()).toEqual(['Hello ada #1', 'Hello ada #2', 'Hello bob #1']);
    expect(greetings.slice(3).sort()).toEqual(['Still there, ada? (visit 1)', 'Still there, ada? (visit 2)', 'Still there, bob? (visit 1)']);
    const audited = runtime.state(Address.of('example/audit', 'ada')).values.get('firstVisits');
    expect(Types.int.deserialize(audited!.value)).toBe(1);
  });
});
