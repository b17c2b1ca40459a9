import { type Behaviour, behaviours, type SdkName } from './behaviours';
import { Scenario } from './Scenario';
import { type ConformanceSdk, type RunningSdk, SDKS, startServer } from './sdks';

/** The outcome of one behaviour against one SDK. */
export interface BehaviourResult {
  readonly sdk: SdkName;
  readonly behaviour: string;
  readonly ok: boolean;
  /** Why it failed, or the SDK's recorded difference. */
  readonly note?: string;
}

export interface ConformanceOptions {
  /** @default - every SDK */
  readonly sdks?: readonly SdkName[];
  /** @default - every behaviour */
  readonly behaviours?: readonly Behaviour[];
  /** Receives one line per result and progress lines. @default - console.log */
  readonly log?: (line: string) => void;
  /** A behaviour still running after this fails. @default 60 000 ms */
  readonly behaviourTimeoutMs?: number;
}

/** The line printed for a result: `conformance: <sdk> <behaviour> ok|FAILED (<why>)`. */
export function resultLine(r: BehaviourResult): string {
  return `conformance: ${r.sdk} ${r.behaviour} ${r.ok ? 'ok' : 'FAILED'}${r.note ? ` (${r.ok ? 'differs: ' : ''}${r.note})` : ''}`;
}

/**
 * Runs the specification against the SDKs: builds and starts each SDK's server, runs every
 * behaviour on a fresh embedded runtime through the suite's module.yaml, prints a line per
 * result, stops every server. Never throws for a failing SDK: its behaviours fail.
 */
export async function runConformance(options: ConformanceOptions = {}): Promise<BehaviourResult[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const list = options.behaviours ?? behaviours;
  const sdks = (options.sdks ?? SDKS.map((s) => s.name)).map((name) => SDKS.find((s) => s.name === name)!);
  const results: BehaviourResult[] = [];
  for (const sdk of sdks) {
    let server: RunningSdk | undefined;
    try {
      server = await startSdk(sdk, log);
    } catch (error) {
      const why = (error as Error).message.replace(/\s+/g, ' ');
      for (const behaviour of list) results.push(report(log, { sdk: sdk.name, behaviour: behaviour.name, ok: false, note: why }));
      continue;
    }
    try {
      for (const behaviour of list) {
        results.push(report(log, await runBehaviour(sdk.name, server.port, behaviour, options.behaviourTimeoutMs ?? 60_000)));
      }
    } finally {
      await server.stop();
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  log(`${results.length - failed} passed, ${failed} failed`);
  return results;
}

/** Runs one behaviour against an SDK server listening on `port`. */
export async function runBehaviour(sdk: SdkName, port: number, behaviour: Behaviour, timeoutMs = 60_000): Promise<BehaviourResult> {
  let timer: NodeJS.Timeout | undefined;
  let scenario: Scenario | undefined;
  try {
    scenario = await Scenario.start(sdk, port);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([behaviour.run(scenario), timeout]);
    const difference = behaviour.differences?.[sdk];
    return { sdk, behaviour: behaviour.name, ok: true, ...(difference ? { note: difference } : {}) };
  } catch (error) {
    return { sdk, behaviour: behaviour.name, ok: false, note: (error as Error).message.replace(/\s+/g, ' ') };
  } finally {
    clearTimeout(timer);
    await scenario?.close();
  }
}

/** Builds (when needed) and starts an SDK's server, with progress lines on `log`. */
export async function startSdk(sdk: ConformanceSdk, log: (line: string) => void): Promise<RunningSdk> {
  const started = Date.now();
  const command = await sdk.prepare((line) => log(`conformance: ${sdk.name}: ${line}`));
  const server = await startServer(sdk.name, command);
  log(`conformance: ${sdk.name}: ${sdk.title}, serving on 127.0.0.1:${server.port} (ready in ${Date.now() - started} ms)`);
  return server;
}

function report(log: (line: string) => void, result: BehaviourResult): BehaviourResult {
  log(resultLine(result));
  return result;
}
