import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { Address, typename } from '../core/Address';
import { InvalidInputError } from '../core/errors';
import type { CommandContext } from './commandContext';

/** Where `statefun dev` serves its playground ingress unless the module says otherwise. */
const DEFAULT_INGRESS_URL = 'http://127.0.0.1:8090';
const TIMEOUT_MS = 10_000;

interface SendOpts {
  readonly url: string;
  readonly type?: string;
  readonly json?: string;
  readonly data?: string;
  readonly dataFile?: string;
}

/**
 * Adds `statefun send <namespace/type/id>` to `program`: it sends one message through the playground ingress of
 * a running `statefun dev` (or of StateFun's playground), as the tutorials' `curl` lines do.
 * Exit codes: 0 sent, 1 not taken (nothing answers, or the ingress refused it), 2 a bad
 * command line. See docs/local-dev.md.
 *
 * @example
 * statefun send example/person/Bob --type example/GreetRequest --json '{"name": "Bob"}'
 */
export function addSendCommand(program: Command, ctx: CommandContext): void {
  const command: Command = program
    .command('send')
    .description('send a message to a function through the playground ingress of a running `statefun dev`')
    .argument('<address>', 'the function instance, namespace/type/id, e.g. example/person/Bob', parseAddress)
    .option('--type <typename>', "the value's type, namespace/type (sent as Content-Type: application/vnd.<typename>); without it the body goes as an io.statefun.types/string", parseTypename)
    .addOption(new Option('--json <json>', 'the value: JSON text, checked before sending').conflicts(['data', 'dataFile']))
    .addOption(new Option('--data <text>', 'the value: this text as it is').conflicts(['dataFile']))
    .option('--data-file <path>', "the value: this file's bytes")
    .addOption(new Option('--url <url>', 'the playground ingress').default(DEFAULT_INGRESS_URL).env('STATEFUN_INGRESS_URL').argParser(parseUrl))
    .action(async (address: Address, opts: SendOpts) => {
      const body = messageBody(opts, (message) => command.error(`error: ${message}`));
      const target = new URL(`/${[address.namespace, address.type, address.id].map(encodeURIComponent).join('/')}`, opts.url);
      let response: Response;
      try {
        response = await fetch(target, {
          method: 'POST',
          headers: opts.type === undefined ? { 'content-type': 'text/plain; charset=utf-8' } : { 'content-type': `application/vnd.${opts.type}` },
          body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (error) {
        ctx.output.err(`statefun send: ${unreachable(opts.url, error)}: is \`statefun dev\` running? Start it with: npx statefun dev --module module.yaml (or give its ingress with --url)`);
        ctx.setCode(1);
        return;
      }
      const text = (await response.text()).trim();
      if (!response.ok) {
        ctx.output.err(`statefun send: the ingress at ${opts.url} refused the message with HTTP ${response.status}${text ? `: ${text}` : ''}`);
        ctx.setCode(1);
        return;
      }
      ctx.output.out(`sent ${opts.type ?? 'io.statefun.types/string'} (${body.byteLength} bytes) to ${address.key}`);
    });
}

/** The body the options give; `fail` reports a bad command line (it throws). */
function messageBody(opts: SendOpts, fail: (message: string) => never): Uint8Array {
  if (opts.json !== undefined) {
    try {
      JSON.parse(opts.json);
    } catch (error) {
      fail(`--json is not JSON (${(error as Error).message}): give JSON text, e.g. --json '{"name": "Bob"}', or the text as it is with --data`);
    }
    return Buffer.from(opts.json, 'utf8');
  }
  if (opts.data !== undefined) return Buffer.from(opts.data, 'utf8');
  if (opts.dataFile !== undefined) {
    try {
      return readFileSync(opts.dataFile);
    } catch (error) {
      fail(`--data-file ${opts.dataFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  return fail("no value given: give it with --json '{...}', --data <text> or --data-file <path>");
}

function unreachable(url: string, error: unknown): string {
  if ((error as Error).name === 'TimeoutError') return `no answer from ${url} within ${TIMEOUT_MS / 1000} s`;
  const cause = (error as { cause?: { code?: string } }).cause;
  return `nothing answers at ${url}${cause?.code ? ` (${cause.code})` : ''}`;
}

function parseAddress(text: string): Address {
  try {
    return Address.parse(text);
  } catch (error) {
    throw new InvalidArgumentError((error as InvalidInputError).message);
  }
}

function parseTypename(text: string): string {
  try {
    return typename(text);
  } catch (error) {
    throw new InvalidArgumentError((error as InvalidInputError).message);
  }
}

function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(`invalid URL ${JSON.stringify(text)}: expected http://host:port, e.g. ${DEFAULT_INGRESS_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`invalid URL ${JSON.stringify(text)}: expected http:// or https://`);
  return text.replace(/\/+$/, '');
}
