import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { type Chain, judge, parseChaosArgs, workload } from '../../chaos/chaos';

const REPO = resolve(__dirname, '..', '..', '..');
const TSX = resolve(REPO, 'node_modules', '.bin', 'tsx');

/**
 * Runs the chaos script as a user would, on emulators of its own: the suite's shared ones
 * carry every other test's tables and streams, and a run on them was seen to crawl.
 */
function chaos(args: string[], timeout = 880_000) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('STATEFUN_TEST_')));
  return spawnSync(TSX, ['test/chaos/chaos.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout, env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
}

describe('chaos (faults at every boundary, real handlers on DynamoDB Local + moto)', () => {
  it('loses, duplicates and reorders nothing on a small seeded run, nor at fan-in, nor through outages, poison and oversize effects, printing one line for each', () => {
    // Act
    const run = chaos(['--messages', '500', '--addresses', '50', '--seed', '7', '--fan-in-senders', '400', '--failure-messages', '200']);

    // Assess
    expect(run.status).toBe(0);
    const [line, fanIn, failures, ...rest] = run.stdout.split('\n');
    expect(line).toBe('chaos: messages=500 lost=0 duplicated=0 reordered=0');
    expect(fanIn).toMatch(/^chaos-fan-in: senders=400 max_item_bytes=\d+ lost=0 duplicated=0$/);
    expect(Number(/max_item_bytes=(\d+)/.exec(fanIn!)![1])).toBeLessThanOrEqual(64 * 1024);
    const outage = /^chaos-failures: outage_min=(\d+) relay_outage_h=(\d+) poison=3 oversize=1 lost=0 duplicated=0 reordered=0 unexpected_dead_letters=0$/.exec(failures!);
    expect(outage).not.toBeNull();
    expect(Number(outage![1])).toBeGreaterThanOrEqual(15);
    expect(Number(outage![2])).toBeGreaterThanOrEqual(25);
    expect(rest).toEqual(['']);
    const faults = JSON.parse(/\[chaos\] faults (\{.*\})/.exec(run.stderr)![1]!) as Record<string, number>;
    // Enough faults fired for the run to mean something.
    expect(faults.crashBeforeCommit! + faults.crashAfterCommit! + faults.racingDispatchers! + faults.batchDeliveredTwice!).toBeGreaterThan(5);
  }, 900_000);

  it('rejects a malformed command line with the reason and the usage (exit 2)', () => {
    for (const [args, reason] of [
      [['--messages', 'ten'], '--messages must be a positive integer, got "ten"'],
      [['--addresses', '0'], '--addresses must be a positive integer, got "0"'],
      [['--seed'], '--seed needs a value'],
      [['--fault-rate', '0.9'], '--fault-rate must be a number from 0 to 0.5'],
      [['--fan-in-senders', '-1'], '--fan-in-senders must be a whole number (0 skips the fan-in run), got "-1"'],
      [['--failure-messages', '1.5'], '--failure-messages must be a whole number (0 skips the failures run), got "1.5"'],
      [['--bogus'], 'unknown argument "--bogus"'],
    ] as const) {
      expect(() => parseChaosArgs(args)).toThrow(reason);
    }
    const run = chaos(['--messages=-5']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('--messages must be a positive integer, got "-5"');
    expect(run.stderr).toContain('usage: npx tsx test/chaos/chaos.ts');
  });

  describe('the oracle', () => {
    const chains: Chain[] = [
      { c: 0, path: ['n0', 'n1'], egress: true },
      { c: 1, path: ['n0', 'n1', 'n0'], egress: false },
    ];
    const good = new Map([
      ['n0', ['0.0', '1.0', '1.2']],
      ['n1', ['0.1', '1.1']],
    ]);
    const counts = (logs: Map<string, string[]>) => new Map([...logs].map(([a, ids]) => [a, ids.length]));

    it('passes the faithful outcome', () => {
      expect(judge(chains, good, counts(good), [{ address: 'n1', c: 0 }])).toMatchObject({ messages: 5, lost: 0, duplicated: 0, reordered: 0 });
    });

    it('counts a lost message, a lost egress record, a duplicate and a reordering', () => {
      const bad = new Map([
        ['n0', ['0.0', '1.0', '1.0']],
        ['n1', ['1.1', '0.1']],
      ]);
      expect(judge(chains, bad, counts(bad), [])).toMatchObject({ lost: 2, duplicated: 1, reordered: 1 });
    });

    it('generates the same workload for the same seed, with at least the messages asked', () => {
      const a = workload({ messages: 1000, addresses: 20, seed: 3 });
      expect(workload({ messages: 1000, addresses: 20, seed: 3 })).toEqual(a);
      expect(a.reduce((n, chain) => n + chain.path.length, 0)).toBe(1000);
      expect(a.some((chain) => new Set(chain.path).size < chain.path.length)).toBe(true);
    });
  });
});
