import type { DeadLetter } from '../../runtime-lambda/core/AddressState';
import type { Envelope } from '../../runtime-lambda/core/Envelope';
import { LocalEffectSink } from '../../runtime-lambda/local/LocalEffectSink';
import { LocalLog } from '../../runtime-lambda/local/LocalLog';
import { SimulatedClock } from '../../runtime-lambda/local/SimulatedClock';
import { TimerQueue } from '../../runtime-lambda/local/TimerQueue';
import { readText } from '../helpers/factories';
import { describeEffectSinkContract } from './effectSinkContract';

describeEffectSinkContract('LocalEffectSink', async () => {
  const log = new LocalLog(2);
  const clock = new SimulatedClock();
  const timers = new TimerQueue(clock);
  const egress: string[] = [];
  const deadLetters: DeadLetter[] = [];
  const sink = new LocalEffectSink(log, timers, { 'contract/alerts': (r) => void egress.push(`${r.id}=${readText(r.argument)}`) }, (d) => void deadLetters.push(d), clock);
  return {
    sink,
    observe: async () => {
      const messages = new Map<string, Envelope[]>();
      for (let p = 0; p < log.partitionCount; p++) {
        const taken = log.take(p, Number.MAX_SAFE_INTEGER);
        log.putBack(p, taken);
        for (const m of taken) messages.set(m.target.key, [...(messages.get(m.target.key) ?? []), m]);
      }
      const pending = timers.takeDue(Number.MAX_SAFE_INTEGER);
      pending.forEach((t) => timers.schedule(t));
      return { messages, pendingTimerIds: pending.map((t) => t.timerId), egress: new Map([['contract/alerts', egress]]), deadLetters };
    },
  };
});
