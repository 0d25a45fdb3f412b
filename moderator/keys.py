"""Every Redis key name and consumer group, in one module.

Nobody else builds a key: call these with the configured prefix. The fields of
the stream entries are in `moderator.records`.
"""

from __future__ import annotations

from dataclasses import dataclass

# The consumer group the workers share on the comments stream.
WORKERS_GROUP = "workers"
# The consumer group the service processes share on the webhook outbox.
WEBHOOKS_GROUP = "webhooks"
# The consumer group the workers share on the spam-training stream.
TRAINERS_GROUP = "trainers"
# The consumer group the workers share on the policy-trials stream.
TRIALS_GROUP = "trials"


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    @property
    def comments_stream(self) -> str:
        """The queue of comments waiting for a decision (a Redis Stream)."""
        return f"{self.prefix}:stream:comments"

    @property
    def workers_group(self) -> str:
        """The consumer group the workers share on `comments_stream`."""
        return WORKERS_GROUP

    def comment(self, comment_id: str) -> str:
        """A hash holding one comment and its current state."""
        return f"{self.prefix}:comment:{comment_id}"

    @property
    def dead_letters(self) -> str:
        """Entries the workers gave up on, with their error (a Redis Stream)."""
        return f"{self.prefix}:stream:dead"

    @property
    def audit(self) -> str:
        """Every decision, automatic or human, appended (a Redis Stream)."""
        return f"{self.prefix}:stream:audit"

    @property
    def webhook_outbox(self) -> str:
        """Events waiting to be delivered to the site's webhook (a Redis Stream)."""
        return f"{self.prefix}:stream:webhooks"

    @property
    def webhook_retries(self) -> str:
        """Outbox entries waiting for their next attempt (sorted set by due time, ms)."""
        return f"{self.prefix}:webhooks:retries"

    @property
    def webhook_failed(self) -> str:
        """Events whose delivery kept failing, kept with their last error (a Redis Stream)."""
        return f"{self.prefix}:stream:webhooks-failed"

    @property
    def spam_training(self) -> str:
        """Moderators' verdicts (spam or ham) for the workers to learn from (a Redis Stream)."""
        return f"{self.prefix}:stream:spam-training"

    @property
    def workers_alive(self) -> str:
        """Worker heartbeats: name -> expiry time in ms (sorted set)."""
        return f"{self.prefix}:workers"

    def metrics(self, name: str) -> str:
        """Counters workers add to and the service exposes at /metrics (hash)."""
        return f"{self.prefix}:metrics:{name}"

    def feed(self, article_id: str) -> str:
        """Published comments of an article (sorted set, score = creation time in ms)."""
        return f"{self.prefix}:feed:{article_id}"

    def queue(self, status: str) -> str:
        """Comments in a state (held, rejected, published), oldest first (sorted set)."""
        return f"{self.prefix}:queue:{status}"

    def wordlist(self, kind: str) -> str:
        """A word list (banned, suspect, sensitive) as versions before languages stored it, a set
        of terms: merged into `wordlist_terms` when read (`moderator.storage.wordlists`)."""
        return f"{self.prefix}:wordlist:{kind}"

    def wordlist_terms(self, kind: str) -> str:
        """A word list (banned, suspect, sensitive): term -> JSON
        {"languages": [...], "meaning": ...} (hash)."""
        return f"{self.prefix}:wordlist:{kind}:terms"

    def spam_recent(self, kind: str, digest: str) -> str:
        """Recent comment ids sharing a body, an e-mail hash or an IP (sorted set by time)."""
        return f"{self.prefix}:spam:{kind}:{digest}"

    def toxicity_scores(self, digest: str) -> str:
        """A model's scores for a normalised body seen within the spam window (JSON
        string with a TTL; `workers.toxicity.reuse`)."""
        return f"{self.prefix}:toxicity:{digest}"

    def spam_tokens(self, label: str) -> str:
        """Token counts of the Bayesian spam model, `label` spam or ham (hash)."""
        return f"{self.prefix}:spam:tokens:{label}"

    @property
    def spam_totals(self) -> str:
        """How many spam and ham comments trained the Bayesian model (hash)."""
        return f"{self.prefix}:spam:totals"

    @property
    def text_counts(self) -> str:
        """The site model's feature counts: bucket -> "<ham> <spam> <toxic>" (hash), the
        three labels' counts in one field, so a comment's are one lookup per feature."""
        return f"{self.prefix}:textmodel:v1:counts"

    def text_counts_per_label(self, label: str) -> str:
        """Before the counts were packed (`text_counts`): `label`'s counts, bucket ->
        count (hash); read only to move them (`TextCounts.pack`)."""
        return f"{self.prefix}:textmodel:v1:counts:{label}"

    @property
    def text_totals(self) -> str:
        """The site model's comments and feature totals per label (hash: docs:<label>,
        features:<label>[:<group>]), its examples per language (examples:<code>) and its
        vocabulary (the (bucket, label) pairs with a count, not counting those still in
        `text_counts_per_label`)."""
        return f"{self.prefix}:textmodel:v1:totals"

    @property
    def text_learned(self) -> str:
        """What each comment taught the site model: comment id -> "<label> <buckets…>"
        (hash), so a relabel or a forgotten reader subtracts exactly that."""
        return f"{self.prefix}:textmodel:v1:learned"

    @property
    def text_languages(self) -> str:
        """The language each comment that taught the site model was detected in: comment
        id -> language code (hash); its totals count the examples per language."""
        return f"{self.prefix}:textmodel:v1:languages"

    @property
    def text_features(self) -> str:
        """The version of the features the site model's counts were learned with
        (`workers.textmodel.FEATURES_VERSION`); absent before version 2."""
        return f"{self.prefix}:textmodel:v1:features"

    @property
    def text_seeded(self) -> str:
        """The sha256 of the shipped labelled comments the site model was seeded from
        ("1" before it was recorded)."""
        return f"{self.prefix}:textmodel:v1:seeded"

    def site_model_outcomes(self, language: str) -> str:
        """Moderators' later decisions on comments the site model scored in `language`,
        newest first (a capped list: would publish or not, approved or not, the evidence
        and the comment's id, "p1:-7.30:<id>"; see `workers.sitemodel`)."""
        return f"{self.prefix}:textmodel:v1:outcomes:{language}"

    @property
    def site_model_levels(self) -> str:
        """Where the site model stands in each language, as last re-measured with
        today's counts (hash: language code -> JSON of `workers.sitewindow.LanguageStatus`
        and the settings it was measured under)."""
        return f"{self.prefix}:textmodel:v1:levels"

    def decision_counts(self, minute: int) -> str:
        """Decisions counted in one minute (Unix time // 60), kept in the same atomic step
        that stores each: by decision, reason, language and override (hash)."""
        return f"{self.prefix}:stats:decisions:{minute}"

    def history(self, comment_id: str) -> str:
        """Every decision record of a comment, oldest first (a list; never rewritten)."""
        return f"{self.prefix}:history:{comment_id}"

    def failure(self, entry_id: str) -> str:
        """The last error of a stream entry that failed, kept until it is decided or dead."""
        return f"{self.prefix}:failure:{entry_id}"

    def wordlist_seeded(self, kind: str) -> str:
        """Set once a word list was seeded, so an emptied list stays empty."""
        return f"{self.prefix}:wordlist:{kind}:seeded"

    @property
    def shadow_candidate(self) -> str:
        """A candidate policy run live beside the active one (JSON string)."""
        return f"{self.prefix}:policy:shadow"

    @property
    def policy_trials(self) -> str:
        """Policies moderators asked to try (or promote), for a worker (stream: `id`,
        `action` evaluate|promote; group `trials`)."""
        return f"{self.prefix}:stream:trials"

    def policy_trial(self, trial_id: str) -> str:
        """A tried policy: status, candidate, by, at, report or error (hash, 1 day)."""
        return f"{self.prefix}:trial:{trial_id}"

    @property
    def policy_overrides(self) -> str:
        """A promoted candidate policy the workers apply over the settings (JSON string)."""
        return f"{self.prefix}:policy:overrides"

    def rate(self, kind: str, digest: str, window: int) -> str:
        """Comments counted for a rate limit in one window (ip, email or article)."""
        return f"{self.prefix}:rate:{kind}:{digest}:{window}"

    def idempotency(self, key_digest: str) -> str:
        """The first answer given for an Idempotency-Key (digest of site key + header)."""
        return f"{self.prefix}:idem:{key_digest}"
