// A claim's panel (specs/plan.md §6, §5.6, §7): the pool signed by the log's key,
// the draw re-run from the pool, the signature and the revealed secret, and each
// juror's signed vote.

import { toHex } from "../verify/bytes.js";
import { Body } from "./body.js";
import { claimOf, undecided } from "./claims.js";
import { DrawError, checkSecret, draw, poolRoot, seedOf, verifyPoolSignature } from "./draw.js";
import { checkRulesVersion } from "./rules.js";
import { DAY, formatTime, showTime } from "./time.js";
import { verifyVote } from "./vote.js";

function withinReveal(body, c, t, rules, rule) {
  const due = c.appealed_s + rules.reveal_days * DAY;
  if (t >= due) body.fail("§5.6", rule, `expected a time before the appeal + ${rules.reveal_days} days (${showTime(due)}), found ${body.entry.time}`);
}

function poolFits(body, pool, rules) {
  if (pool.length < rules.panel_size) body.fail("§6", "pool.too_small", `expected a pool of at least ${rules.panel_size}, found ${pool.length}`);
}

/** §6: the pool fixed at the appeal, signed with the log's key, in time. */
export async function pooled(state, entry, t, rules) {
  const body = new Body(entry, ["claim", "pool_root", "pool_size", "pool_signature", "rules_version"]);
  const c = claimOf(state, body);
  checkRulesVersion(body, rules);
  undecided(body, c, "§5.6");
  if (c.pool === null) body.fail("§5.6", "claim.order", `expected ${c.id} appealed first`);
  if (c.pool_signature !== null) body.fail("§5.6", "pooled.twice", `expected ${c.id} not pooled before`);
  withinReveal(body, c, t, rules, "pooled.reveal");
  const root = await poolRoot(c.id, c.pool);
  body.same("§6", "pool_root", toHex(root));
  body.same("§6", "pool_size", c.pool.length);
  poolFits(body, c.pool, rules);
  try {
    c.pool_signature = await verifyPoolSignature(state.key, state.origin, c.id, root, body.text("pool_signature"));
  } catch (e) {
    body.fail("§6", "pool_signature", e.message);
  }
  c.pool_root = root;
}

/** §6: the secret opens the commitment; seed, jurors and voting_closes re-derived. */
export async function drawn(state, entry, t, rules) {
  const body = new Body(entry, ["claim", "secret", "seed", "jurors", "voting_closes", "rules_version"]);
  const c = claimOf(state, body);
  checkRulesVersion(body, rules);
  undecided(body, c, "§5.6");
  if (c.jurors !== null) body.fail("§5.6", "drawn.twice", `expected ${c.id} not drawn before`);
  if (c.pool_signature === null) body.fail("§5.6", "claim.order", `expected ${c.id} pooled first`);
  withinReveal(body, c, t, rules, "drawn.reveal");
  poolFits(body, c.pool, rules);
  let secret;
  try {
    secret = await checkSecret(body.hex64("secret"), c.secret_commitment);
  } catch (e) {
    if (!(e instanceof DrawError)) throw e;
    body.fail("§6", "secret", e.message);
  }
  const seed = await seedOf(c.pool_root, c.pool_signature, secret);
  body.same("§6", "seed", toHex(seed));
  body.same("§6", "jurors", await draw(c.pool, seed, rules.panel_size));
  const closesS = t + rules.voting_days * DAY;
  body.same("§6", "voting_closes", formatTime(closesS));
  c.jurors = body.v.jurors;
  c.voting_closes = body.v.voting_closes;
  c.voting_closes_s = closesS;
}

/** §7: a drawn juror, as themself, once, before voting closes, signed with their key. */
export async function vote(state, entry, t) {
  const body = new Body(entry, ["claim", "juror", "choice", "rationale_hash", "signature"]);
  const c = claimOf(state, body);
  undecided(body, c, "§7");
  if (c.jurors === null) body.fail("§7", "vote.not_drawn", `expected ${c.id} to have a drawn panel`);
  const juror = body.member("juror");
  if (!c.jurors.includes(juror)) body.fail("§7", "vote.juror", `expected a drawn juror, found ${juror}`);
  if (entry.actor !== `juror:${juror}`) body.fail("§7", "vote.actor", `expected actor juror:${juror}, found ${entry.actor}`);
  if (c.votes.has(juror)) body.fail("§7", "vote.twice", `a second vote by ${juror}`);
  if (t >= c.voting_closes_s) body.fail("§7", "vote.closed", `expected a vote before ${c.voting_closes}`);
  const m = state.members.get(juror);
  if (m === undefined || m.left_s !== null || m.juror_key === null) body.fail("§7", "vote.left", `expected ${juror} an active, enrolled juror`);
  const choice = body.choice("choice", ["approve", "deny"], "§7");
  const rationale = body.hex64("rationale_hash");
  if (!(await verifyVote(m.juror_key, state.origin, c.id, choice, rationale, body.text("signature")))) {
    body.fail("§7", "vote.signature", `the vote of ${juror} does not verify with the key enrolled at seq ${m.juror_seq}`);
  }
  c.votes.set(juror, choice);
}
