import { Address } from '../core/Address';
import { InvalidInputError } from '../core/errors';
import type { DelayedInvocation } from '../core/Invocation';
import type { TypedValue } from '../core/TypedValue';
import type { Context } from './Context';
import type { StateDecls, Storage } from './defineFunction';
import { EgressMessage, OutgoingMessage } from './Message';

/** Internal: the {@link Context} of one batch, collecting its effects. */
export class ContextImpl implements Context<StateDecls> {
  caller: Address | null = null;
  readonly messages: { target: Address; argument: TypedValue }[] = [];
  readonly delayed: DelayedInvocation[] = [];
  readonly egresses: { egress: string; argument: TypedValue }[] = [];

  constructor(
    readonly self: Address,
    readonly storage: Storage<StateDecls>,
  ) {}

  send(message: OutgoingMessage): void {
    if (!(message instanceof OutgoingMessage)) {
      throw new InvalidInputError(
        `ctx.send(): expected a message built with message({ to, value, type })${(message as unknown) instanceof EgressMessage ? '; use ctx.egress() for egress messages' : ''}`,
      );
    }
    this.messages.push({ target: message.target, argument: message.argument });
  }

  sendAfter(delayMs: number, message: OutgoingMessage, cancellationToken?: string): void {
    if (!(message instanceof OutgoingMessage)) {
      throw new InvalidInputError('ctx.sendAfter(): expected a message built with message({ to, value, type })');
    }
    if (!Number.isSafeInteger(delayMs) || delayMs < 0) {
      throw new InvalidInputError(
        `ctx.sendAfter(): delay must be a non-negative integer number of milliseconds, got ${String(delayMs)}`,
      );
    }
    if (cancellationToken === undefined) {
      this.delayed.push({ kind: 'send', delayMs, target: message.target, argument: message.argument });
      return;
    }
    checkToken(cancellationToken, 'ctx.sendAfter()');
    this.delayed.push({ kind: 'send', delayMs, target: message.target, argument: message.argument, cancellationToken });
  }

  cancelDelayedMessage(cancellationToken: string): void {
    checkToken(cancellationToken, 'ctx.cancelDelayedMessage()');
    this.delayed.push({ kind: 'cancel', cancellationToken });
  }

  egress(message: EgressMessage): void {
    if (!(message instanceof EgressMessage)) {
      throw new InvalidInputError('ctx.egress(): expected a message built with egressMessage(), kafkaEgressMessage() or kinesisEgressMessage()');
    }
    this.egresses.push({ egress: message.egress, argument: message.argument });
  }
}

function checkToken(token: unknown, api: string): void {
  if (typeof token !== 'string' || token.length === 0) {
    throw new InvalidInputError(`${api}: the cancellation token must be a non-empty string, got ${JSON.stringify(token) ?? typeof token}`);
  }
}
