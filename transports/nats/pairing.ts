/**
 * Pairing: the two ends of a channel name find each other, and a third is
 * refused. docs/PROTOCOL.md ("NATS channels", "Pairing") gives the messages.
 *
 * Every end has a random id. It listens on the name's `_open` subject and
 * its own `_pair.<id>` subject, then says its id on `_open`. Ids are
 * ordered (as strings): the LOWER id of two proposes, the higher accepts.
 *
 * - hearing the id `x` of another end on `_open`: if paired, answer `taken`
 *   to `_pair.<x>`; else if x > own id, x is a candidate to propose to; else
 *   answer `here <own id>` to `_pair.<x>` (so x, the lower, proposes to us:
 *   it may have spoken before we listened);
 * - `here x` on `_pair.<own>`: x is a candidate;
 * - proposing: a request `propose <own id>` to `_pair.<x>`, one candidate
 *   at a time; `accept` pairs; `taken` means the name has its two ends
 *   (ChannelTakenError); no responder or no answer in time: x is gone, try
 *   the next;
 * - `propose x` on `_pair.<own>`: unpaired and not proposing: pair with x,
 *   answer `accept`; paired: answer `taken` (`accept` to its partner);
 *   proposing to y: answer once that is settled (`taken` if y accepted or
 *   refused; if y was gone, x's proposal is taken as if it came then).
 *
 * Proposals go from lower to higher ids only, so they never wait on each
 * other in a circle; two ends opened in any order pair, and a name with a
 * pair refuses a third end.
 *
 * An end not yet paired says its id on `_open` again, 50 ms after the first
 * time, then at doubling intervals up to 2 s, for as long as it is
 * unpaired: one announcement could miss its peer for good — both ends
 * opened while the client was reconnecting (published into the outage), or
 * on two servers of a NATS cluster, where a subscription's interest reaches
 * the other server a moment after it is made. Both ends then waited for
 * ever, with no error (a helper's probe: 7 of 25 pairs across two routed
 * servers, 3 of 3 across a restart). Hearing an id again is harmless: a
 * known candidate is not added twice, a paired end answers `taken` to
 * another id — and `here <own id>` to its partner's, which it hears only
 * when the partner gave up on its proposal before this end's late `accept`
 * (the partner's pairTimeout shorter than this end's wait on a silent
 * third end): the partner proposes again and is accepted again.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { ChannelTakenError } from '../../core/errors';
import type { ChannelSubjects } from './wire';

/** What a pairing reports. */
export interface PairingEvents {
  /** Paired with the end `partner` (its id). */
  paired(partner: string): void;
  /** Cannot pair: the name is taken, or NATS failed. */
  failed(err: Error): void;
}

type State = 'looking' | 'proposing' | 'paired' | 'over';

/** The first wait before an unpaired end says its id again, and the longest (doubling in between). */
const FIRST_AGAIN_MS = 50;
const LAST_AGAIN_MS = 2000;
/**
 * The most candidates, and proposals waiting, an end keeps: a name has two
 * ends, so more come only from a crowd of openers or a hostile publisher;
 * past it an id is not kept (it says its id again, and is heard then).
 */
const MOST_KEPT = 64;

export class Pairing {
  private state: State = 'looking';
  private partner: string | undefined;
  private readonly candidates: string[] = [];
  /** Proposals that came while this end was proposing, answered once that is settled. */
  private waiting: Msg[] = [];
  private subs: Subscription[] = [];
  /** The next announcement on `_open` while unpaired, and the wait before the one after it. */
  private again: NodeJS.Timeout | undefined;
  private againMs = FIRST_AGAIN_MS;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: ChannelSubjects,
    readonly id: string,
    private readonly channelName: string,
    /** How long a proposal waits for its answer, ms. */
    private readonly answerMs: number,
    private readonly events: PairingEvents,
  ) {}

  /** Listens, then says this end's id. */
  start(): void {
    const { nc, subjects, id } = this;
    this.subs = [
      nc.subscribe(subjects.open, { callback: (err, msg) => void (err || this.heard(msg.string())) }),
      nc.subscribe(subjects.pair(id), { callback: (err, msg) => void (err || this.told(msg)) }),
    ];
    this.announce();
  }

  /** Says this end's id on `_open`, and again later while it is unpaired (see the file comment). */
  private announce(): void {
    this.again = undefined;
    if (this.state === 'paired' || this.state === 'over' || this.nc.isClosed() || this.nc.isDraining()) return;
    try {
      this.nc.publish(this.subjects.open, this.id);
    } catch {
      return; // closing or draining between the check and the publish: nothing more to announce
    }
    this.again = setTimeout(() => this.announce(), this.againMs);
    this.again.unref(); // an unpaired end keeps no process alive by itself
    this.againMs = Math.min(LAST_AGAIN_MS, this.againMs * 2);
  }

  /** Stops pairing and answering (the end is closed). */
  stop(): void {
    this.state = 'over';
    clearTimeout(this.again);
    for (const sub of this.subs) sub.unsubscribe();
    this.subs = [];
    for (const msg of this.waiting.splice(0)) this.answer(msg, 'taken');
  }

  private heard(other: string): void {
    if (other === this.id || !isId(other) || this.state === 'over') return;
    // The partner says its id only while it is not paired: its proposal timed out before this end's
    // accept went (this end answered late, its own proposal to a silent end outlasting the partner's
    // pairTimeout). `here` makes it propose again, and this end accepts again: both are paired.
    if (other === this.partner) this.nc.publish(this.subjects.pair(other), `here ${this.id}`);
    else if (this.state === 'paired') this.nc.publish(this.subjects.pair(other), 'taken');
    else if (other > this.id) this.candidate(other);
    else this.nc.publish(this.subjects.pair(other), `here ${this.id}`);
  }

  private told(msg: Msg): void {
    if (this.state === 'over') return;
    const [word, other] = msg.string().split(' ');
    if (word === 'here' && isId(other) && other > this.id) {
      if (this.state === 'paired') {
        if (other !== this.partner) this.nc.publish(this.subjects.pair(other), 'taken');
      } else this.candidate(other);
    } else if (word === 'taken') {
      if (this.state !== 'paired') this.fail(taken(this.channelName));
    } else if (word === 'propose' && isId(other) && other < this.id && msg.reply) { // no reply subject: no one to accept, no pairing
      if (this.state === 'proposing') {
        if (this.waiting.length < MOST_KEPT) this.waiting.push(msg); // past it: unanswered, the proposer proposes again when it hears this end's id
      }
      else if (this.state === 'paired') this.answer(msg, other === this.partner ? 'accept' : 'taken');
      else {
        this.answer(msg, 'accept');
        this.pair(other);
      }
    }
  }

  private candidate(other: string): void {
    if (!this.candidates.includes(other) && this.candidates.length < MOST_KEPT) this.candidates.push(other);
    if (this.state === 'looking') this.proposeNext();
  }

  private proposeNext(): void {
    const other = this.candidates.shift();
    if (other === undefined) {
      this.state = 'looking';
      // A proposal that waited on ours: take it now.
      const first = this.waiting.shift();
      if (first) this.told(first);
      return;
    }
    this.state = 'proposing';
    this.nc.request(this.subjects.pair(other), `propose ${this.id}`, { timeout: this.answerMs }).then(
      (reply) => {
        if (this.state !== 'proposing') return;
        if (reply.string() === 'accept') this.pair(other);
        else this.fail(taken(this.channelName));
      },
      () => {
        // No responder, or no answer in time: that end is gone. A proposal
        // that waited on ours comes from an end known to be there: take it.
        if (this.state !== 'proposing') return;
        const first = this.waiting.shift();
        if (!first) return this.proposeNext();
        this.state = 'looking';
        this.told(first);
      },
    );
  }

  private pair(other: string): void {
    this.state = 'paired';
    clearTimeout(this.again);
    this.partner = other;
    this.candidates.length = 0;
    for (const msg of this.waiting.splice(0)) this.answer(msg, 'taken');
    this.events.paired(other);
  }

  private fail(err: Error): void {
    this.stop();
    this.events.failed(err);
  }

  private answer(msg: Msg, word: 'accept' | 'taken'): void {
    try {
      msg.respond(word);
    } catch {
      // The connection is closing: the proposer hears nothing and takes this end for gone.
    }
  }
}

function isId(s: string | undefined): s is string {
  return s !== undefined && /^[A-Za-z0-9]{1,64}$/.test(s);
}

function taken(name: string): ChannelTakenError {
  return new ChannelTakenError(`the NATS channel "${name}" already has its two ends: a third cannot open it`);
}
