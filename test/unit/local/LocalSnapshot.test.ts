import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address } from '../../../runtime-lambda/core/Address';
import { InvalidInputError } from '../../../runtime-lambda/core/errors';
import { LocalRuntime } from '../../../runtime-lambda/local/LocalRuntime';
import { readText, textValue } from '../../helpers/factories';
import { JournalFunction, resolverOf } from '../../helpers/journalFunction';

const A = Address.of('test/journal', 'a');
const B = Address.of('test/journal', 'b');

describe('LocalRuntime: stateFile', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'statefun-snapshot-'));
    file = join(dir, 'state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const start = (options: { partitions?: number } = {}) =>
    new LocalRuntime({
      functions: resolverOf({ 'test/journal': new JournalFunction() }),
      ingresses: [{ name: 'commands', target: 'test/journal' }],
      dispatcher: { sleep: async () => undefined },
      stateFile: file,
      ...options,
    });
  const journal = (runtime: LocalRuntime, address: Address) => readText(runtime.state(address).values.get('journal'));

  it('goes on after a restart with the same states, pending timers, dead letters, clock and positions', async () => {
    // Prepare
    const first = start();
    first.ingest('commands', 'a', textValue('one'));
    first.ingest('commands', 'a', textValue('after 60000 - test/journal/b wake'));
    first.ingest('commands', 'a', textValue('throw'));
    first.send(A, textValue('two'));
    await first.advanceBy(1000);

    // Act
    const second = start();
    const resumedAt = second.clock.now();
    second.ingest('commands', 'a', textValue('three'));
    second.send(A, textValue('four'));
    await second.advanceBy(60_000);

    // Assess
    expect(resumedAt).toBe(first.clock.now());
    expect(journal(second, A)).toBe('one|after 60000 - test/journal/b wake|two|three|four');
    expect(journal(second, B)).toBe('wake');
    expect(second.deadLetters.map((d) => d.address)).toEqual([A.key]);
    expect(second.pendingTimers).toBe(0);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('starts empty without a file, and writes one when idle', async () => {
    // Act
    const runtime = start();
    const before = readdirSync(dir);
    runtime.ingest('commands', 'b', textValue('hi'));
    await runtime.runUntilIdle();

    // Assess
    expect(before).toEqual([]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ statefunLocalSnapshot: 3, externalSeq: 0, inbox: [], log: [[], [], [], []] });
  });

  it('keeps the records not yet dispatched: a runtime restarted from a state saved before a round processes them', async () => {
    // Prepare
    const first = start();
    first.ingest('commands', 'a', textValue('one'));
    first.send(B, textValue('two'));
    first.saveState();

    // Act
    const second = start();
    await second.runUntilIdle();

    // Assess
    expect(first.pendingMessages).toBe(2);
    expect(journal(second, A)).toBe('one');
    expect(journal(second, B)).toBe('two');
    expect(second.pendingMessages).toBe(0);
  });

  it('with snapshotIntervalMs, writes at most that often, and at once when told', async () => {
    // Prepare
    const runtime = new LocalRuntime({ functions: resolverOf({ 'test/journal': new JournalFunction() }), stateFile: file, snapshotIntervalMs: 3_600_000 });
    runtime.send(A, textValue('one'));
    await runtime.runUntilIdle();
    const firstWrite = readFileSync(file, 'utf8');

    // Act
    runtime.send(A, textValue('two'));
    await runtime.runUntilIdle();
    const afterSecondRun = readFileSync(file, 'utf8');
    runtime.saveState();

    // Assess
    expect(afterSecondRun).toBe(firstWrite);
    expect(journal(start(), A)).toBe('one|two');
  });

  it('refuses a negative snapshotIntervalMs, naming it', () => {
    // Act
    const attempt = () => new LocalRuntime({ functions: resolverOf({}), snapshotIntervalMs: -1 });

    // Assess
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow('LocalRuntime: snapshotIntervalMs must be a whole number of ms, 0 or more, got -1');
  });

  it('reads a version-1 file (before inboxes) as states that applied no inbox entry, and goes on', async () => {
    // Prepare: what a runtime of the previous format wrote for one address
    const v1 = {
      statefunLocalSnapshot: 1,
      clockMs: 1_767_225_600_000,
      externalSeq: 0,
      logOffsets: [0, 0, 0, 0],
      states: [{ address: { $a: A.key }, version: 1, epochMs: 1_767_225_600_000, values: { $m: [['journal', { typename: 'test/text', value: { $b: Buffer.from('old').toString('base64') }, touchedAtMs: 1_767_225_600_000 }]] }, marks: { $m: [] }, timers: { $m: [] } }],
      timers: [],
      deadLetters: [],
    };
    writeFileSync(file, JSON.stringify(v1));

    // Act
    const runtime = start();
    runtime.send(A, textValue('new'));
    await runtime.runUntilIdle();

    // Assess
    expect(journal(runtime, A)).toBe('old|new');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ statefunLocalSnapshot: 3, inbox: [] });
  });

  it.each([
    ['not JSON', '{"statefunLocalSnapshot": 1,', /does not parse/],
    ['another format', '{"statefunLocalSnapshot": 4}', /expected an object with "statefunLocalSnapshot": 3/],
    ['a bad log', '{"statefunLocalSnapshot":3,"clockMs":0,"externalSeq":0,"logOffsets":[0,0,0,0],"log":[[],[],[{"id":"x"}],[]],"states":[],"inbox":[],"timers":[],"deadLetters":[]}', /"log" must hold, for each partition of "logOffsets", a list of messages/],
    ['a log of another length', '{"statefunLocalSnapshot":3,"clockMs":0,"externalSeq":0,"logOffsets":[0,0,0,0],"log":[[]],"states":[],"inbox":[],"timers":[],"deadLetters":[]}', /"log" must hold, for each partition/],
    ['a bad inbox', '{"statefunLocalSnapshot":2,"clockMs":0,"externalSeq":0,"logOffsets":[0,0,0,0],"states":[],"inbox":[{"key":"k"}],"timers":[],"deadLetters":[]}', /"inbox" must be a list of inbox entries/],
    ['a bad clock', '{"statefunLocalSnapshot":1,"clockMs":-1,"externalSeq":0,"logOffsets":[0,0,0,0],"states":[],"timers":[],"deadLetters":[]}', /"clockMs" and "externalSeq" must be whole numbers/],
    ['a bad state', '{"statefunLocalSnapshot":1,"clockMs":0,"externalSeq":0,"logOffsets":[0,0,0,0],"states":[{"address":"test/journal/a"}],"timers":[],"deadLetters":[]}', /"states" must be a list of address states/],
    ['a bad timer', '{"statefunLocalSnapshot":1,"clockMs":0,"externalSeq":0,"logOffsets":[0,0,0,0],"states":[],"timers":[{"fireAtMs":5}],"deadLetters":[]}', /"timers" must be a list/],
  ])('refuses a file with %s, naming it, and leaves it as it was', (_case, text, message) => {
    // Prepare
    writeFileSync(file, text);

    // Act
    const attempt = () => start();

    // Assess
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(file);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('refuses a file written with another number of partitions', async () => {
    // Prepare
    await start().runUntilIdle();

    // Act
    const attempt = () => start({ partitions: 2 });

    // Assess
    expect(attempt).toThrow(/written by a runtime with 4 partitions, this one has 2: give partitions: 4/);
  });
});
