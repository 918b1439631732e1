/**
 * The account process of the bank example (examples/bank.ts): one process
 * per account, holding its balance, answering requests. A module of its
 * own because every thread that runs an account loads it.
 */
import { codec } from '../core/codec'; // in your app: from 'rxwire'
import { entry, ProcessExitedError, ProcessRefSchema, type Process } from '../processes/index'; // 'rxwire/processes'

/** An account's capture: its name and opening balance. */
export const Opening = codec({
  type: 'record',
  name: 'Opening',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'balance', type: 'long' },
  ],
} as const);

/**
 * What an account is asked. `deposit` and `withdraw` answer the new balance
 * (`withdraw` answers -1 and changes nothing when the funds are short);
 * `transfer` withdraws `amount` and deposits it at `to`, answering the
 * amount moved (0 when short); `balance` answers the balance; `corrupt`
 * makes the account throw (the crash the example shows).
 */
export const Order = codec({
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'op', type: { type: 'enum', name: 'Op', symbols: ['deposit', 'withdraw', 'transfer', 'balance', 'corrupt'] } },
    { name: 'amount', type: 'long', default: 0 },
    { name: 'to', type: ['null', ProcessRefSchema], default: null },
  ],
} as const);

/** The account's codecs: a capture, its orders, its answers. */
export const ACCOUNT = { capture: Opening, mailbox: Order, reply: codec('long') };

/**
 * An account. Orders are handled as they come (a transfer waits for the
 * other account's answer without holding up the next orders: the amount is
 * withdrawn first, so the balance is never spent twice).
 */
export const account = entry(__filename, 'account', ACCOUNT, ({ name, balance: opening }, mailbox, self) =>
  new Promise<void>((_, fail) => {
    let balance = opening;
    mailbox.letters.subscribe(async (letter) => {
      const { op, amount, to } = letter.message;
      switch (op) {
        case 'deposit':
          balance += amount;
          return letter.reply(balance);
        case 'withdraw':
          if (amount > balance) return letter.reply(-1);
          balance -= amount;
          return letter.reply(balance);
        case 'balance':
          return letter.reply(balance);
        case 'transfer': {
          if (amount > balance || !to) return letter.reply(0);
          balance -= amount;
          const payee: Process<typeof letter.message, number> = self.handle(to, ACCOUNT);
          try {
            await payee.request({ op: 'deposit', amount, to: null }, { timeout: 30_000 });
            return letter.reply(amount);
          } catch (err) {
            // Only a payee that ended surely did not deposit: the money comes back. Any other failure (a time-out)
            // may come after the deposit, so a refund could make money: this account fails instead (its supervisor
            // restarts it) rather than guess.
            if (!(err instanceof ProcessExitedError)) throw err;
            balance += amount;
            return letter.reply(0);
          }
        }
        case 'corrupt':
          return fail(new Error(`${name}: the ledger is corrupt`));
      }
    });
  }),
);
