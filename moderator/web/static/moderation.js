// The moderators' page: plain JavaScript, no framework, no build step.
//
// Safety rules kept throughout this file:
// - every text that comes from a reader or from the API is put in the page with
//   textContent / createTextNode, never parsed as HTML (no innerHTML anywhere);
// - every such text gets dir="auto", so Arabic reads right to left;
// - the token lives in sessionStorage only and travels in the Authorization header,
//   never in a URL.
"use strict";

(() => {
  // ---------------------------------------------------------------------------
  // Interface text: every string of the page, in one dictionary.
  // ---------------------------------------------------------------------------
  const STRINGS = {
    fr: {
      skip_to_queue: "Aller à la file",
      interface_language: "Langue de l’interface",
      shortcuts_button: "Raccourcis (?)",
      sign_out: "Se déconnecter",
      signed_in_as: "Connecté : {name}",
      signin_title: "Modération des commentaires",
      signin_intro: "Saisissez votre jeton de modération. Il reste dans cet onglet et disparaît à sa fermeture.",
      token_label: "Jeton de modération",
      sign_in: "Se connecter",
      signing_in: "Connexion…",
      token_missing: "Saisissez un jeton.",
      token_refused: "Ce jeton est refusé. Vérifiez-le et réessayez.",
      session_ended: "Votre session a pris fin : reconnectez-vous.",
      signed_out: "Vous êtes déconnecté.",
      welcome: "Connecté en tant que {name}.",
      queue_title: "File de modération",
      queue_state: "État de la file",
      state_held: "En attente",
      state_rejected: "Rejetés",
      state_published: "Publiés",
      status_held: "en attente",
      status_rejected: "rejeté",
      status_published: "publié",
      status_pending: "en cours d’analyse",
      filter_article: "Article",
      filter_article_placeholder: "identifiant",
      filter_language: "Langue",
      filter_family: "Pourquoi",
      filter_rank: "Modèle du site",
      family_any: "Toutes les raisons",
      family_language: "Sa langue seulement",
      family_words: "Mots des listes",
      family_spam: "Spam",
      family_toxicity: "Toxicité",
      family_site_model: "Modèle du site : toxique",
      family_check_failed: "Vérification impossible",
      rank_any: "Tous",
      rank_likely_fine: "Sans doute correct",
      rank_suspect: "Suspect",
      rank_chip_likely_fine: "sans doute correct",
      rank_chip_suspect: "suspect",
      approve_likely_fine: "Approuver les {count} « sans doute correct » affichés",
      approve_likely_fine_confirm: "Approuver les {count} commentaires « sans doute corrects » affichés ? Chacun est inscrit au journal à votre nom.",
      filter_apply: "Filtrer",
      refresh: "Actualiser",
      language_any: "Toutes",
      language_fr: "Français",
      language_en: "Anglais",
      language_ar: "Arabe (MSA)",
      language_ary: "Darija",
      language_mixed: "Mélange",
      language_und: "Indéterminé",
      language_unknown: "Inconnue",
      script_latin: "écriture latine",
      script_arabic: "écriture arabe",
      script_mixed: "écritures mêlées",
      oldest_held: "Le plus ancien attend depuis {age}.",
      queue_empty: "Rien à modérer ici.",
      queue_loaded: "{count} commentaire(s) affiché(s).",
      load_more: "Afficher la suite",
      loading: "Chargement…",
      article: "article",
      reply_to: "réponse à",
      select_comment: "Sélectionner le commentaire de {name}",
      approve: "Approuver",
      kind_legend: "Un rejet ou un retrait apprend aux modèles que c’est :",
      kind_spam: "du spam",
      kind_abusive: "un propos abusif",
      kind_other: "rien (autre raison)",
      kind_approve_teaches: "Approuver une mise en attente leur apprend : ni spam, ni abusif.",
      reject: "Rejeter",
      takedown: "Retirer",
      done_approve: "Commentaire de {name} approuvé et publié.",
      done_reject: "Commentaire de {name} rejeté.",
      done_takedown: "Commentaire de {name} retiré.",
      not_available: "Cette action n’est pas possible pour ce commentaire.",
      nothing_selected: "Aucun commentaire sélectionné.",
      conflict: "Ce commentaire a déjà été traité ailleurs : il est maintenant {status}. Il a été actualisé.",
      conflict_notice: "Traité ailleurs : maintenant {status}.",
      gone: "Ce commentaire n’existe plus.",
      bulk_selected: "{count} sélectionné(s)",
      bulk_approve: "Approuver la sélection",
      bulk_reject: "Rejeter la sélection",
      bulk_takedown: "Retirer la sélection",
      bulk_clear: "Tout désélectionner",
      bulk_none: "Aucun commentaire coché pour cette action (touche x pour cocher).",
      bulk_done: "{ok} traité(s), {conflict} déjà traité(s) ailleurs, {missing} introuvable(s).",
      detail_title: "Détails",
      detail_back: "← Retour à la file",
      detail_empty: "Sélectionnez un commentaire pour voir ses détails et son historique.",
      note_label: "Note pour l’historique (facultative)",
      note_placeholder: "ex. : insulte envers un autre lecteur",
      scores_title: "Scores",
      audit_title: "Historique",
      audit_empty: "Aucune décision enregistrée.",
      fact_name: "Nom",
      fact_article: "Article",
      fact_parent: "Réponse à",
      fact_url: "Site web",
      fact_created: "Reçu",
      fact_decided: "Décidé",
      fact_status: "État",
      fact_language: "Langue",
      fact_email_hash: "Empreinte e-mail",
      fact_model: "Modèle",
      fact_policy: "Règles",
      spam_score: "spam",
      no_scores: "Aucun score.",
      toxicity_not_scored_language: "Toxicité non évaluée : langue non lue par le modèle.",
      toxicity_not_scored: "Toxicité non évaluée.",
      signal_links: "{n} lien(s) dans le texte",
      signal_hosts: "{n} sites différents",
      signal_shortener: "lien raccourci (bit.ly…)",
      signal_phone: "un numéro de téléphone",
      signal_whatsapp: "WhatsApp mentionné",
      signal_telegram: "Telegram mentionné",
      signal_handle: "un @compte à côté de Telegram",
      signal_email_in_body: "une adresse e-mail dans le texte",
      signal_shouting: "écrit surtout en majuscules",
      signal_repeated_chars: "caractères répétés (« !!!!! »)",
      signal_honeypot: "champ caché rempli (un robot)",
      signal_fast_form: "envoyé en {n} s, plus vite qu’une personne n’écrit",
      signal_repeated_body: "le même texte envoyé {n} autre(s) fois en {window}",
      signal_burst_email: "{n} commentaires de la même adresse e-mail en {window}",
      signal_burst_ip: "{n} commentaires de la même adresse IP en {window}",
      signal_bayes: "le filtre anti-spam appris : {n}",
      signal_content: "le modèle du site y lit du spam",
      by_auto: "automatique",
      by_moderator: "modérateur {name}",
      history_entry: "{decision} · {by}",
      action_label: "action : {action}",
      reason_toxicity: "{label}",
      reason_wordlist_suspect: "mot suspect",
      reason_wordlist_banned: "mot interdit",
      reason_language_not_covered: "langue non couverte par le modèle",
      reason_spam_likely: "spam probable",
      reason_spam_near_certain: "spam quasi certain",
      reason_check_failed: "vérification impossible : {check}",
      reason_check_failed_toxicity: "analyse de toxicité indisponible — retenu pour une personne",
      reason_privacy_forget: "effacé à la demande du lecteur",
      reason_site_model_toxic: "le modèle du site le lit comme abusif",
      reason_site_model_unproven: "langue non lue par le modèle ; le modèle du site ne publie pas encore seul dans cette langue",
      reason_site_model_audit_sample: "tiré au sort pour vérifier le modèle du site",
      // Between a reason and what it rests on: "insulte : 0,93 ≥ 0,60", "mot suspect : idiot".
      score_separator: "\u00a0: ",
      detail_separator: "\u00a0: ",
      audit_model: "modèle {model} · règles {policy}",
      label_toxicity: "toxicité",
      label_severe_toxicity: "toxicité grave",
      label_obscene: "obscénité",
      label_identity_attack: "attaque identitaire",
      label_insult: "insulte",
      label_threat: "menace",
      label_sexual_explicit: "sexuel explicite",
      network_error: "Le service ne répond pas. Réessayez dans un instant.",
      error_generic: "Une erreur est survenue ({status}).",
      shortcuts_title: "Raccourcis clavier",
      close: "Fermer",
      key_next: "Commentaire suivant",
      key_previous: "Commentaire précédent",
      key_approve: "Approuver",
      key_reject: "Rejeter",
      key_takedown: "Retirer (publiés)",
      key_toggle: "Cocher ou décocher pour une action groupée",
      key_bulk_approve: "Approuver les commentaires cochés",
      key_bulk_reject: "Rejeter les commentaires cochés",
      key_bulk_takedown: "Retirer les commentaires cochés",
      key_clear: "Tout décocher, fermer cette aide",
      key_help: "Afficher cette aide",
      age_seconds: "{n} s",
      age_minutes: "{n} min",
      age_hours: "{n} h",
      age_days: "{n} j",
      report_tab: "Rapport d’équité",
      policy_tab: "Essayer des règles",
      policy_title: "Essayer des règles avant de les appliquer",
      policy_intro: "Les dernières décisions automatiques sont rejouées avec ces règles, à partir des scores enregistrés : rien n’est appliqué tant que vous ne promouvez pas. Un champ vide garde la valeur en vigueur.",
      policy_thresholds: "Seuils de toxicité (0 à 1)",
      policy_rules: "Spam et langues",
      policy_spam_hold: "Mise en attente du spam",
      policy_spam_reject: "Rejet du spam",
      policy_language_rule: "Langue non lue par le modèle",
      policy_keep: "inchangé",
      policy_rule_hold: "retenir pour une personne",
      policy_rule_score: "noter quand même",
      policy_last: "Décisions rejouées",
      policy_try: "Essayer",
      policy_pending: "Essai en cours…",
      policy_done: "{changed} décision(s) sur {evaluated} changeraient.",
      policy_failed: "L’essai a échoué : {error}",
      policy_col_evaluated: "Rejouées",
      policy_col_held: "En attente (avant → après)",
      policy_col_rejected: "Rejetées (avant → après)",
      policy_col_changed: "Changées",
      policy_promote: "Appliquer ces règles",
      policy_promote_confirm: "Appliquer ces règles à tous les prochains commentaires ? L’action est inscrite au journal à votre nom.",
      policy_promoting: "Application en cours…",
      policy_promoted: "Règles appliquées.",
      report_title: "Rapport d’équité",
      report_intro:
        "Par langue et écriture : les décisions automatiques, les corrections des modérateurs et l’attente des commentaires retenus. L’arabe et la darija sont retenus pour une personne par choix (langue non couverte par le modèle) : les approbations montrent combien de ces mises en attente étaient inutiles.",
      report_window: "Période",
      report_last_24h: "Dernières 24 heures",
      report_last_7d: "7 derniers jours",
      report_custom: "Personnalisée…",
      report_since: "Du",
      report_until: "Au",
      report_show: "Afficher",
      report_download_csv: "Télécharger CSV",
      report_download_json: "Télécharger JSON",
      report_shown: "Du {since} au {until}.",
      report_loaded: "Rapport affiché : {count} ligne(s).",
      report_empty: "Aucune décision automatique dans cette période.",
      report_window_invalid: "Choisissez un début et une fin, le début avant la fin.",
      report_downloaded: "Fichier {name} enregistré.",
      report_rules:
        "Chaque langue est comparée à toutes les autres ensemble (au moins {min} commentaires de chaque côté). Elle est signalée quand son taux de mise en attente ou de faux positifs les dépasse d’au moins {difference} points et qu’un test de deux proportions rend le hasard improbable (p < {alpha}, corrigé pour le nombre de comparaisons).",
      report_col_language: "Langue",
      report_col_script: "Écriture",
      report_group_auto: "Décisions automatiques",
      report_group_overrides: "Corrections des modérateurs",
      report_group_wait: "Attente des commentaires retenus",
      report_col_reasons: "Motifs",
      report_col_seen: "Vus",
      report_col_published: "Publiés",
      report_col_held: "En attente",
      report_col_rejected: "Rejetés",
      report_col_hold_rate: "Taux de mise en attente",
      report_col_approved_after_hold: "Approuvés après attente",
      report_col_false_positive_rate: "Taux de faux positifs",
      report_col_rejected_after_hold: "Rejetés après attente",
      report_col_taken_down: "Retirés après publication",
      report_col_false_negative_rate: "Taux de faux négatifs",
      report_col_wait_median: "Médiane",
      report_col_wait_max: "Maximum",
      report_ratio: "{n} sur {of}",
      flag_above: "{rate} très au-dessus des autres langues : {value} contre {typical} (toutes les autres ensemble)",
      flag_below: "{rate} très en dessous des autres langues : {value} contre {typical} (toutes les autres ensemble)",
      flag_rate_hold_rate: "Taux de mise en attente",
      flag_rate_false_positive_rate: "Taux de faux positifs",
      script_short_latin: "latine",
      script_short_arabic: "arabe",
      script_short_mixed: "mêlées",
      script_short_none: "aucune",
      script_short_unknown: "inconnue",
    },
    en: {
      skip_to_queue: "Skip to the queue",
      interface_language: "Interface language",
      shortcuts_button: "Shortcuts (?)",
      sign_out: "Sign out",
      signed_in_as: "Signed in: {name}",
      signin_title: "Comment moderation",
      signin_intro: "Enter your moderator token. It stays in this tab and is forgotten when the tab closes.",
      token_label: "Moderator token",
      sign_in: "Sign in",
      signing_in: "Signing in…",
      token_missing: "Enter a token.",
      token_refused: "This token was refused. Check it and try again.",
      session_ended: "Your session has ended: please sign in again.",
      signed_out: "You are signed out.",
      welcome: "Signed in as {name}.",
      queue_title: "Moderation queue",
      queue_state: "Queue",
      state_held: "Held",
      state_rejected: "Rejected",
      state_published: "Published",
      status_held: "held",
      status_rejected: "rejected",
      status_published: "published",
      status_pending: "being scored",
      filter_article: "Article",
      filter_article_placeholder: "id",
      filter_language: "Language",
      filter_family: "Why",
      filter_rank: "Site model",
      family_any: "Any reason",
      family_language: "Its language alone",
      family_words: "Listed words",
      family_spam: "Spam",
      family_toxicity: "Toxicity",
      family_site_model: "Site model: toxic",
      family_check_failed: "Check failed",
      rank_any: "Any",
      rank_likely_fine: "Likely fine",
      rank_suspect: "Suspect",
      rank_chip_likely_fine: "likely fine",
      rank_chip_suspect: "suspect",
      approve_likely_fine: "Approve the {count} likely-fine comments shown",
      approve_likely_fine_confirm: "Approve the {count} likely-fine comments shown? Each is audited in your name.",
      filter_apply: "Filter",
      refresh: "Refresh",
      language_any: "All",
      language_fr: "French",
      language_en: "English",
      language_ar: "Arabic",
      language_ary: "Darija",
      language_mixed: "Mixed",
      language_und: "Undetermined",
      language_unknown: "Unknown",
      script_latin: "Latin script",
      script_arabic: "Arabic script",
      script_mixed: "mixed scripts",
      oldest_held: "The oldest has waited {age}.",
      queue_empty: "Nothing to moderate here.",
      queue_loaded: "{count} comment(s) shown.",
      load_more: "Show more",
      loading: "Loading…",
      article: "article",
      reply_to: "reply to",
      select_comment: "Select the comment by {name}",
      approve: "Approve",
      kind_legend: "A rejection or take-down teaches the models that it is:",
      kind_spam: "spam",
      kind_abusive: "abusive",
      kind_other: "nothing (another reason)",
      kind_approve_teaches: "Approving a hold teaches them: not spam, not abusive.",
      reject: "Reject",
      takedown: "Take down",
      done_approve: "Comment by {name} approved and published.",
      done_reject: "Comment by {name} rejected.",
      done_takedown: "Comment by {name} taken down.",
      not_available: "This action is not possible for this comment.",
      nothing_selected: "No comment selected.",
      conflict: "This comment was already handled elsewhere: it is now {status}. It has been refreshed.",
      conflict_notice: "Handled elsewhere: now {status}.",
      gone: "This comment no longer exists.",
      bulk_selected: "{count} selected",
      bulk_approve: "Approve selected",
      bulk_reject: "Reject selected",
      bulk_takedown: "Take down selected",
      bulk_clear: "Clear selection",
      bulk_none: "No comment checked for this action (press x to check one).",
      bulk_done: "{ok} done, {conflict} already handled elsewhere, {missing} not found.",
      detail_title: "Details",
      detail_back: "← Back to the queue",
      detail_empty: "Select a comment to see its details and history.",
      note_label: "Note for the history (optional)",
      note_placeholder: "e.g. insults another reader",
      scores_title: "Scores",
      audit_title: "History",
      audit_empty: "No decision recorded.",
      fact_name: "Name",
      fact_article: "Article",
      fact_parent: "Reply to",
      fact_url: "Website",
      fact_created: "Received",
      fact_decided: "Decided",
      fact_status: "Status",
      fact_language: "Language",
      fact_email_hash: "E-mail hash",
      fact_model: "Model",
      fact_policy: "Policy",
      spam_score: "spam",
      no_scores: "No scores.",
      toxicity_not_scored_language: "Toxicity not scored: a language the model does not read.",
      toxicity_not_scored: "Toxicity not scored.",
      signal_links: "{n} link(s) in the text",
      signal_hosts: "{n} different sites",
      signal_shortener: "a shortened link (bit.ly…)",
      signal_phone: "a phone number",
      signal_whatsapp: "WhatsApp mentioned",
      signal_telegram: "Telegram mentioned",
      signal_handle: "an @account next to Telegram",
      signal_email_in_body: "an e-mail address in the text",
      signal_shouting: "mostly in capitals",
      signal_repeated_chars: "repeated characters (“!!!!!”)",
      signal_honeypot: "the hidden field was filled (a robot)",
      signal_fast_form: "sent in {n} s, faster than a person types",
      signal_repeated_body: "the same text sent {n} more time(s) in {window}",
      signal_burst_email: "{n} comments from the same e-mail address in {window}",
      signal_burst_ip: "{n} comments from the same IP address in {window}",
      signal_bayes: "the trained spam filter: {n}",
      signal_content: "the site model reads spam in it",
      by_auto: "automatic",
      by_moderator: "moderator {name}",
      history_entry: "{decision} · {by}",
      action_label: "action: {action}",
      reason_toxicity: "{label}",
      reason_wordlist_suspect: "suspect word",
      reason_wordlist_banned: "banned word",
      reason_language_not_covered: "language the model does not read",
      reason_spam_likely: "likely spam",
      reason_spam_near_certain: "near-certain spam",
      reason_check_failed: "check failed: {check}",
      reason_check_failed_toxicity: "toxicity check unavailable — held for a person",
      reason_privacy_forget: "erased at the reader's request",
      reason_site_model_toxic: "the site model reads it as abusive",
      reason_site_model_unproven: "a language the model does not read; the site model does not publish alone in it yet",
      reason_site_model_audit_sample: "drawn at random to check the site model",
      // Between a reason and what it rests on: "insult 0.93 ≥ 0.60", "suspect word · idiot".
      score_separator: " ",
      detail_separator: " · ",
      audit_model: "model {model} · policy {policy}",
      label_toxicity: "toxicity",
      label_severe_toxicity: "severe toxicity",
      label_obscene: "obscene",
      label_identity_attack: "identity attack",
      label_insult: "insult",
      label_threat: "threat",
      label_sexual_explicit: "sexually explicit",
      network_error: "The service does not answer. Try again in a moment.",
      error_generic: "Something went wrong ({status}).",
      shortcuts_title: "Keyboard shortcuts",
      close: "Close",
      key_next: "Next comment",
      key_previous: "Previous comment",
      key_approve: "Approve",
      key_reject: "Reject",
      key_takedown: "Take down (published)",
      key_toggle: "Check or uncheck for a bulk action",
      key_bulk_approve: "Approve the checked comments",
      key_bulk_reject: "Reject the checked comments",
      key_bulk_takedown: "Take down the checked comments",
      key_clear: "Uncheck all, close this help",
      key_help: "Show this help",
      age_seconds: "{n} s",
      age_minutes: "{n} min",
      age_hours: "{n} h",
      age_days: "{n} d",
      report_tab: "Fairness report",
      policy_tab: "Try a policy",
      policy_title: "Try a policy before it applies",
      policy_intro: "The last automatic decisions are replayed under these rules, from their stored scores: nothing changes until you promote it. An empty field keeps the value in force.",
      policy_thresholds: "Toxicity thresholds (0 to 1)",
      policy_rules: "Spam and languages",
      policy_spam_hold: "Spam: hold at",
      policy_spam_reject: "Spam: reject at",
      policy_language_rule: "A language the model does not read",
      policy_keep: "unchanged",
      policy_rule_hold: "hold for a person",
      policy_rule_score: "score it anyway",
      policy_last: "Decisions replayed",
      policy_try: "Try",
      policy_pending: "Trying…",
      policy_done: "{changed} of {evaluated} decisions would change.",
      policy_failed: "The trial failed: {error}",
      policy_col_evaluated: "Replayed",
      policy_col_held: "Held (now → then)",
      policy_col_rejected: "Rejected (now → then)",
      policy_col_changed: "Changed",
      policy_promote: "Promote this policy",
      policy_promote_confirm: "Make these rules apply to every next comment? This is audited in your name.",
      policy_promoting: "Promoting…",
      policy_promoted: "Policy promoted.",
      report_title: "Fairness report",
      report_intro:
        "Per language and script: automatic decisions, moderators' overrides and how long held comments waited. Arabic and Darija are held for a person by design (language the model does not read): the approvals show how many of those holds were unnecessary.",
      report_window: "Window",
      report_last_24h: "Last 24 hours",
      report_last_7d: "Last 7 days",
      report_custom: "Custom…",
      report_since: "From",
      report_until: "To",
      report_show: "Show",
      report_download_csv: "Download CSV",
      report_download_json: "Download JSON",
      report_shown: "From {since} to {until}.",
      report_loaded: "Report shown: {count} row(s).",
      report_empty: "No automatic decision in this window.",
      report_window_invalid: "Choose a start and an end, the start before the end.",
      report_downloaded: "Saved {name}.",
      report_rules:
        "Each language is compared with all the others together (at least {min} comments on each side). It is flagged when its hold or false-positive rate is above theirs by at least {difference} points and a two-proportion test makes chance unlikely (p < {alpha}, corrected for the number of comparisons).",
      report_col_language: "Language",
      report_col_script: "Script",
      report_group_auto: "Automatic decisions",
      report_group_overrides: "Moderators' overrides",
      report_group_wait: "Wait of held comments",
      report_col_reasons: "Reasons",
      report_col_seen: "Seen",
      report_col_published: "Published",
      report_col_held: "Held",
      report_col_rejected: "Rejected",
      report_col_hold_rate: "Hold rate",
      report_col_approved_after_hold: "Approved after hold",
      report_col_false_positive_rate: "False-positive rate",
      report_col_rejected_after_hold: "Rejected after hold",
      report_col_taken_down: "Taken down after publishing",
      report_col_false_negative_rate: "False-negative rate",
      report_col_wait_median: "Median",
      report_col_wait_max: "Longest",
      report_ratio: "{n} of {of}",
      flag_above: "{rate} far above the other languages: {value} vs {typical} (all the others together)",
      flag_below: "{rate} far below the other languages: {value} vs {typical} (all the others together)",
      flag_rate_hold_rate: "Hold rate",
      flag_rate_false_positive_rate: "False-positive rate",
      script_short_latin: "Latin",
      script_short_arabic: "Arabic",
      script_short_mixed: "mixed",
      script_short_none: "none",
      script_short_unknown: "unknown",
    },
    ar: {
      skip_to_queue: "الانتقال إلى القائمة",
      interface_language: "لغة الواجهة",
      shortcuts_button: "الاختصارات (?)",
      sign_out: "تسجيل الخروج",
      signed_in_as: "متصل: {name}",
      signin_title: "الإشراف على التعليقات",
      signin_intro: "أدخل رمز الإشراف الخاص بك. يبقى في هذه النافذة ويُنسى عند إغلاقها.",
      token_label: "رمز الإشراف",
      sign_in: "تسجيل الدخول",
      signing_in: "جارٍ تسجيل الدخول…",
      token_missing: "أدخل رمزًا.",
      token_refused: "تم رفض هذا الرمز. تحقق منه وأعد المحاولة.",
      session_ended: "انتهت جلستك: يرجى تسجيل الدخول من جديد.",
      signed_out: "تم تسجيل خروجك.",
      welcome: "تم تسجيل الدخول باسم {name}.",
      queue_title: "قائمة الإشراف",
      queue_state: "حالة القائمة",
      state_held: "قيد المراجعة",
      state_rejected: "مرفوضة",
      state_published: "منشورة",
      status_held: "قيد المراجعة",
      status_rejected: "مرفوض",
      status_published: "منشور",
      status_pending: "قيد التحليل",
      filter_article: "المقال",
      filter_article_placeholder: "المعرّف",
      filter_language: "اللغة",
      filter_family: "السبب",
      filter_rank: "نموذج الموقع",
      family_any: "كل الأسباب",
      family_language: "لغته فقط",
      family_words: "كلمات القوائم",
      family_spam: "رسائل مزعجة",
      family_toxicity: "السمّية",
      family_site_model: "نموذج الموقع: مسيء",
      family_check_failed: "تعذّر الفحص",
      rank_any: "الكل",
      rank_likely_fine: "سليم على الأرجح",
      rank_suspect: "مشبوه",
      rank_chip_likely_fine: "سليم على الأرجح",
      rank_chip_suspect: "مشبوه",
      approve_likely_fine: "قبول {count} من التعليقات المعروضة السليمة على الأرجح",
      approve_likely_fine_confirm: "قبول {count} من التعليقات المعروضة السليمة على الأرجح؟ يُسجَّل كل قبول باسمك.",
      filter_apply: "تصفية",
      refresh: "تحديث",
      language_any: "الكل",
      language_fr: "الفرنسية",
      language_en: "الإنجليزية",
      language_ar: "العربية الفصحى",
      language_ary: "الدارجة",
      language_mixed: "مختلطة",
      language_und: "غير محددة",
      language_unknown: "غير معروفة",
      script_latin: "خط لاتيني",
      script_arabic: "خط عربي",
      script_mixed: "خطوط مختلطة",
      oldest_held: "أقدم تعليق ينتظر منذ {age}.",
      queue_empty: "لا شيء للمراجعة هنا.",
      queue_loaded: "عدد التعليقات المعروضة: {count}.",
      load_more: "عرض المزيد",
      loading: "جارٍ التحميل…",
      article: "المقال",
      reply_to: "ردًّا على",
      select_comment: "تحديد تعليق {name}",
      approve: "قبول",
      kind_legend: "الرفض أو السحب يعلّم النماذج أن التعليق:",
      kind_spam: "رسالة مزعجة",
      kind_abusive: "مسيء",
      kind_other: "لا شيء (سبب آخر)",
      kind_approve_teaches: "قبول تعليق محجوز يعلّمها: ليس رسالة مزعجة وليس مسيئاً.",
      reject: "رفض",
      takedown: "سحب",
      done_approve: "تم قبول تعليق {name} ونشره.",
      done_reject: "تم رفض تعليق {name}.",
      done_takedown: "تم سحب تعليق {name}.",
      not_available: "هذا الإجراء غير ممكن لهذا التعليق.",
      nothing_selected: "لم يتم تحديد أي تعليق.",
      conflict: "تمت معالجة هذا التعليق في مكان آخر: حالته الآن {status}. تم تحديثه.",
      conflict_notice: "عولج في مكان آخر: حالته الآن {status}.",
      gone: "هذا التعليق لم يعد موجودًا.",
      bulk_selected: "المحدد: {count}",
      bulk_approve: "قبول المحدد",
      bulk_reject: "رفض المحدد",
      bulk_takedown: "سحب المحدد",
      bulk_clear: "إلغاء التحديد",
      bulk_none: "لا يوجد تعليق محدد لهذا الإجراء (اضغط x للتحديد).",
      bulk_done: "تمت معالجة {ok}، وعولج {conflict} في مكان آخر، ولم يُعثر على {missing}.",
      detail_title: "التفاصيل",
      detail_back: "→ العودة إلى القائمة",
      detail_empty: "حدد تعليقًا لعرض تفاصيله وسجله.",
      note_label: "ملاحظة للسجل (اختيارية)",
      note_placeholder: "مثال: إهانة قارئ آخر",
      scores_title: "الدرجات",
      audit_title: "السجل",
      audit_empty: "لا يوجد قرار مسجل.",
      fact_name: "الاسم",
      fact_article: "المقال",
      fact_parent: "ردًّا على",
      fact_url: "الموقع",
      fact_created: "تاريخ الاستلام",
      fact_decided: "تاريخ القرار",
      fact_status: "الحالة",
      fact_language: "اللغة",
      fact_email_hash: "بصمة البريد",
      fact_model: "النموذج",
      fact_policy: "القواعد",
      spam_score: "رسائل مزعجة",
      no_scores: "لا توجد درجات.",
      toxicity_not_scored_language: "لم تُقيَّم السمّية: لغة لا يقرؤها النموذج.",
      toxicity_not_scored: "لم تُقيَّم السمّية.",
      signal_links: "روابط في النص: {n}",
      signal_hosts: "مواقع مختلفة: {n}",
      signal_shortener: "رابط مختصر (bit.ly…)",
      signal_phone: "رقم هاتف",
      signal_whatsapp: "ذكر واتساب",
      signal_telegram: "ذكر تيليجرام",
      signal_handle: "حساب @ بجانب تيليجرام",
      signal_email_in_body: "عنوان بريد إلكتروني في النص",
      signal_shouting: "مكتوب في معظمه بحروف كبيرة",
      signal_repeated_chars: "حروف مكررة («!!!!!»)",
      signal_honeypot: "الحقل المخفي مملوء (آلة)",
      signal_fast_form: "أُرسل في {n} ث، أسرع مما يكتب إنسان",
      signal_repeated_body: "النص نفسه أُرسل {n} مرات أخرى خلال {window}",
      signal_burst_email: "{n} تعليقات من البريد الإلكتروني نفسه خلال {window}",
      signal_burst_ip: "{n} تعليقات من عنوان IP نفسه خلال {window}",
      signal_bayes: "مرشّح الرسائل المزعجة المتعلّم: {n}",
      signal_content: "نموذج الموقع يقرأ فيه رسالة مزعجة",
      by_auto: "تلقائي",
      by_moderator: "المشرف {name}",
      history_entry: "{decision} · {by}",
      action_label: "الإجراء: {action}",
      reason_toxicity: "{label}",
      reason_wordlist_suspect: "كلمة مشبوهة",
      reason_wordlist_banned: "كلمة محظورة",
      reason_language_not_covered: "لغة لا يقرؤها النموذج",
      reason_spam_likely: "رسالة مزعجة محتملة",
      reason_spam_near_certain: "رسالة مزعجة شبه مؤكدة",
      reason_check_failed: "تعذّر الفحص: {check}",
      reason_check_failed_toxicity: "فحص السمّية غير متاح — محجوز لمراجعة بشرية",
      reason_privacy_forget: "مُحي بطلب من القارئ",
      reason_site_model_toxic: "نموذج الموقع يقرؤه مسيئاً",
      reason_site_model_unproven: "لغة لا يقرؤها النموذج؛ ونموذج الموقع لا ينشر وحده بهذه اللغة بعد",
      reason_site_model_audit_sample: "اختير عشوائياً لمراقبة نموذج الموقع",
      score_separator: ": ",
      detail_separator: ": ",
      audit_model: "النموذج {model} · القواعد {policy}",
      label_toxicity: "سمّية",
      label_severe_toxicity: "سمّية شديدة",
      label_obscene: "بذاءة",
      label_identity_attack: "هجوم على الهوية",
      label_insult: "إهانة",
      label_threat: "تهديد",
      label_sexual_explicit: "محتوى جنسي صريح",
      network_error: "الخدمة لا تستجيب. أعد المحاولة بعد قليل.",
      error_generic: "حدث خطأ ({status}).",
      shortcuts_title: "اختصارات لوحة المفاتيح",
      close: "إغلاق",
      key_next: "التعليق التالي",
      key_previous: "التعليق السابق",
      key_approve: "قبول",
      key_reject: "رفض",
      key_takedown: "سحب (المنشورة)",
      key_toggle: "تحديد أو إلغاء التحديد لإجراء جماعي",
      key_bulk_approve: "قبول التعليقات المحددة",
      key_bulk_reject: "رفض التعليقات المحددة",
      key_bulk_takedown: "سحب التعليقات المحددة",
      key_clear: "إلغاء كل التحديد، إغلاق هذه المساعدة",
      key_help: "عرض هذه المساعدة",
      age_seconds: "{n} ث",
      age_minutes: "{n} د",
      age_hours: "{n} س",
      age_days: "{n} ي",
      report_tab: "تقرير الإنصاف",
      policy_tab: "تجربة قواعد",
      policy_title: "جرّب القواعد قبل تطبيقها",
      policy_intro: "تُعاد آخر القرارات الآلية بهذه القواعد انطلاقاً من الدرجات المحفوظة: لا يتغير شيء حتى تعتمدها. الحقل الفارغ يُبقي القيمة السارية.",
      policy_thresholds: "عتبات السمّية (من 0 إلى 1)",
      policy_rules: "الرسائل المزعجة واللغات",
      policy_spam_hold: "حجز الرسائل المزعجة عند",
      policy_spam_reject: "رفض الرسائل المزعجة عند",
      policy_language_rule: "لغة لا يقرؤها النموذج",
      policy_keep: "بلا تغيير",
      policy_rule_hold: "حجز لمراجعة بشرية",
      policy_rule_score: "تقييمها على أي حال",
      policy_last: "عدد القرارات المُعادة",
      policy_try: "جرّب",
      policy_pending: "جارٍ التجريب…",
      policy_done: "سيتغير {changed} من أصل {evaluated} قرار.",
      policy_failed: "فشلت التجربة: {error}",
      policy_col_evaluated: "المُعاد",
      policy_col_held: "المحجوز (الآن ← بعدها)",
      policy_col_rejected: "المرفوض (الآن ← بعدها)",
      policy_col_changed: "المتغيّر",
      policy_promote: "اعتماد هذه القواعد",
      policy_promote_confirm: "تطبيق هذه القواعد على كل التعليقات القادمة؟ يُسجَّل ذلك باسمك.",
      policy_promoting: "جارٍ الاعتماد…",
      policy_promoted: "اعتُمدت القواعد.",
      report_title: "تقرير الإنصاف",
      report_intro:
        "حسب اللغة والخط: القرارات التلقائية، وتصحيحات المشرفين، ومدة انتظار التعليقات المحجوزة. تُحجز التعليقات بالعربية والدارجة لمراجعة بشرية عن قصد (لغة لا يقرؤها النموذج): تُظهر الموافقات كم من هذه الحجوزات كان غير ضروري.",
      report_window: "الفترة",
      report_last_24h: "آخر 24 ساعة",
      report_last_7d: "آخر 7 أيام",
      report_custom: "مخصصة…",
      report_since: "من",
      report_until: "إلى",
      report_show: "عرض",
      report_download_csv: "تنزيل CSV",
      report_download_json: "تنزيل JSON",
      report_shown: "من {since} إلى {until}.",
      report_loaded: "تم عرض التقرير: {count} صف.",
      report_empty: "لا توجد قرارات تلقائية في هذه الفترة.",
      report_window_invalid: "اختر بداية ونهاية، على أن تسبق البداية النهاية.",
      report_downloaded: "تم حفظ {name}.",
      report_rules:
        "تُقارَن كل لغة بكل اللغات الأخرى مجتمعة ({min} تعليقاً على الأقل في كل جانب). ويُشار إليها إذا تجاوز معدل الحجز أو معدل الإيجابيات الخاطئة فيها معدلها بـ{difference} نقاط على الأقل، وجعل اختبار النسبتين الصدفة مستبعدة (p < {alpha}، مصححة بعدد المقارنات).",
      report_col_language: "اللغة",
      report_col_script: "الخط",
      report_group_auto: "القرارات التلقائية",
      report_group_overrides: "تصحيحات المشرفين",
      report_group_wait: "انتظار التعليقات المحجوزة",
      report_col_reasons: "الأسباب",
      report_col_seen: "المستلمة",
      report_col_published: "المنشورة",
      report_col_held: "المحجوزة",
      report_col_rejected: "المرفوضة",
      report_col_hold_rate: "معدل الحجز",
      report_col_approved_after_hold: "مقبولة بعد الحجز",
      report_col_false_positive_rate: "معدل الإيجابيات الخاطئة",
      report_col_rejected_after_hold: "مرفوضة بعد الحجز",
      report_col_taken_down: "مسحوبة بعد النشر",
      report_col_false_negative_rate: "معدل السلبيات الخاطئة",
      report_col_wait_median: "الوسيط",
      report_col_wait_max: "الأقصى",
      report_ratio: "{n} من {of}",
      flag_above: "{rate} أعلى بكثير من اللغات الأخرى: {value} مقابل {typical} (كلها مجتمعة)",
      flag_below: "{rate} أدنى بكثير من اللغات الأخرى: {value} مقابل {typical} (كلها مجتمعة)",
      flag_rate_hold_rate: "معدل الحجز",
      flag_rate_false_positive_rate: "معدل الإيجابيات الخاطئة",
      script_short_latin: "لاتيني",
      script_short_arabic: "عربي",
      script_short_mixed: "مختلط",
      script_short_none: "بلا خط",
      script_short_unknown: "غير معروف",
    },
  };
  const LANGUAGES = Object.keys(STRINGS);
  const RTL_LANGUAGES = new Set(["ar"]);

  // What each action may start from (the API answers 409 otherwise).
  const ACTIONS = {
    approve: ["held", "rejected"],
    reject: ["held"],
    takedown: ["published"],
  };
  // The actions offered for a comment in each state, in button order.
  const OFFERED = {
    held: ["approve", "reject"],
    rejected: ["approve"],
    published: ["takedown"],
  };
  const ACTION_KEYS = { approve: "a", reject: "r", takedown: "t" };

  const KEYMAP = [
    ["j / ↓", "key_next"],
    ["k / ↑", "key_previous"],
    ["a", "key_approve"],
    ["r", "key_reject"],
    ["t", "key_takedown"],
    ["x", "key_toggle"],
    ["Shift + A", "key_bulk_approve"],
    ["Shift + R", "key_bulk_reject"],
    ["Shift + T", "key_bulk_takedown"],
    ["Esc", "key_clear"],
    ["?", "key_help"],
  ];

  const TOKEN_KEY = "moderator.token";
  const LANG_KEY = "moderator.language";
  const PAGE_SIZE = 50;
  const STATUS_MS = 8000;

  const state = {
    lang: "en",
    token: null,
    me: null,
    windows: { spam_s: 3600, burst_s: 600 }, // the spam signals' windows, from /me
    queue: "held",
    filters: { article_id: "", language: "", family: "", rank: "" },
    summary: null, // the held queue's counts by reason family and rank
    items: [],
    nextCursor: null,
    selectedId: null,
    checked: new Set(),
    busy: new Set(),
    notices: new Map(),
    detailSeq: 0,
    queueSeq: 0,
    statusTimer: null,
    view: "queue", // or "report"
    report: null, // the last fairness report shown
    policy: null, // the thresholds and rules in force, for the policy view
    trialId: null, // the policy tried last
    reportWindow: null, // its { since, until }, as asked (ISO 8601)
    reportSeq: 0,
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------------------
  // Translation
  // ---------------------------------------------------------------------------
  function hasString(key) {
    return key in (STRINGS[state.lang] || {}) || key in STRINGS.en;
  }

  function t(key, values) {
    const table = STRINGS[state.lang] || STRINGS.en;
    const template = table[key] ?? STRINGS.en[key] ?? key;
    if (!values) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name) =>
      name in values ? String(values[name]) : whole,
    );
  }

  function pickLanguage() {
    const stored = localStorage.getItem(LANG_KEY);
    if (stored && LANGUAGES.includes(stored)) return stored;
    for (const tag of navigator.languages || [navigator.language || ""]) {
      const base = String(tag).toLowerCase().split("-")[0];
      if (LANGUAGES.includes(base)) return base;
    }
    return "en";
  }

  function applyLanguage() {
    const root = document.documentElement;
    root.lang = state.lang;
    root.dir = RTL_LANGUAGES.has(state.lang) ? "rtl" : "ltr";
    $("lang-select").value = state.lang;
    for (const el of document.querySelectorAll("[data-i18n]")) {
      el.textContent = t(el.dataset.i18n);
    }
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    }
    for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
      el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
    }
    if (state.me) $("signed-in-as").textContent = t("signed_in_as", { name: state.me });
    renderHelp();
    renderWhy();
  }

  // ---------------------------------------------------------------------------
  // DOM helpers: text only, never HTML
  // ---------------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A reader's (or any API) text: as text, with its own direction.
  function userText(tag, className, text) {
    const node = el(tag, className, text ?? "");
    node.dir = "auto";
    return node;
  }

  // Status messages go to the aria-live region; information fades after a while,
  // an error stays until the next message.
  function announce(message, kind) {
    const status = $("status");
    clearTimeout(state.statusTimer);
    status.classList.toggle("is-error", kind === "error");
    // A new node each time, so screen readers announce a repeated message again.
    status.replaceChildren(el("span", null, message));
    if (kind !== "error") {
      state.statusTimer = setTimeout(() => status.replaceChildren(), STATUS_MS);
    }
  }

  function isNumber(value) {
    return typeof value === "number" && Number.isFinite(value);
  }

  // Numbers as the interface language writes them: "0,93" in French, "0.93" in English.
  function formatNumber(value, options) {
    return isNumber(value) ? new Intl.NumberFormat(locale(), options).format(value) : "–";
  }

  function formatScore(value) {
    return formatNumber(value, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function formatCount(value) {
    return formatNumber(value, { maximumFractionDigits: 0 });
  }

  // A rate (0.75) as a percentage: "75 %" in French, "75%" in English.
  function formatPercent(value) {
    return formatNumber(value, { style: "percent", maximumFractionDigits: 1 });
  }

  // A duration in seconds in the largest unit that keeps it readable ("42 s", "1,5 h").
  function formatDuration(seconds) {
    if (!isNumber(seconds)) return "–";
    const s = Math.max(0, seconds);
    const [unit, size] =
      s < 60 ? ["second", 1] : s < 3600 ? ["minute", 60] : s < 86400 ? ["hour", 3600] : ["day", 86400];
    return formatNumber(s / size, {
      style: "unit",
      unit,
      unitDisplay: "short",
      maximumFractionDigits: unit === "second" || unit === "minute" ? 0 : 1,
    });
  }

  // The browser's own regional variant of the interface language (en-GB, fr-CA…);
  // Latin digits for Arabic, as in the Maghreb, so they match the scores.
  function locale() {
    const own = (navigator.languages || []).find(
      (tag) => String(tag).toLowerCase().split("-")[0] === state.lang,
    );
    const tag = own || state.lang;
    return state.lang === "ar" ? `${tag}-u-nu-latn` : tag;
  }

  function parseDate(iso) {
    const date = new Date(iso);
    return iso && !Number.isNaN(date.getTime()) ? date : null;
  }

  function formatDate(iso) {
    const date = parseDate(iso);
    if (!date) return iso ? String(iso) : "–";
    return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(
      date,
    );
  }

  function formatRelative(iso) {
    const date = parseDate(iso);
    if (!date) return formatDate(iso);
    const seconds = (date.getTime() - Date.now()) / 1000;
    const format = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
    const size = Math.abs(seconds);
    if (size < 60) return format.format(Math.round(seconds), "second");
    if (size < 3600) return format.format(Math.round(seconds / 60), "minute");
    if (size < 86400) return format.format(Math.round(seconds / 3600), "hour");
    return format.format(Math.round(seconds / 86400), "day");
  }

  function formatAge(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return t("age_seconds", { n: s });
    if (s < 3600) return t("age_minutes", { n: Math.round(s / 60) });
    if (s < 86400) return t("age_hours", { n: Math.round(s / 3600) });
    return t("age_days", { n: Math.round(s / 86400) });
  }

  function timeElement(iso, { relative = false } = {}) {
    const node = el("time", "when", relative ? formatRelative(iso) : formatDate(iso));
    if (iso) node.dateTime = iso;
    if (relative) node.title = formatDate(iso);
    return node;
  }

  function languageName(code) {
    if (!code) return "–";
    return hasString(`language_${code}`) ? t(`language_${code}`) : String(code);
  }

  function scriptName(script) {
    if (!script) return "–";
    return hasString(`script_short_${script}`) ? t(`script_short_${script}`) : String(script);
  }

  function statusName(status) {
    return t(`status_${status}`);
  }

  function byName(by) {
    if (!by || by === "auto") return t("by_auto");
    if (by.startsWith("moderator:")) return t("by_moderator", { name: by.slice(10) });
    return by;
  }

  // ---------------------------------------------------------------------------
  // Matched words, highlighted with <mark> elements around text nodes
  // ---------------------------------------------------------------------------
  const ARABIC_FOLD = { "ى": "ي", "ـ": "" };
  const LEET = { a: "a4@", e: "e3", i: "i1!", o: "o0", s: "s5$", t: "t7", l: "l1" };
  const SEPARATORS = "[._*\\-]?";
  const ARABIC_PREFIX = "(?:[وفبكل]?ال|[وفبكل])?";

  function foldChar(ch) {
    const plain = ch.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
    return ARABIC_FOLD[plain] ?? plain;
  }

  // The text folded (case, accents, Arabic marks), with each folded code unit's
  // start and end in the original text.
  function foldWithOffsets(text) {
    let folded = "";
    const starts = [];
    const ends = [];
    let offset = 0;
    for (const ch of text) {
      const f = foldChar(ch);
      for (let i = 0; i < f.length; i += 1) {
        starts.push(offset);
        ends.push(offset + ch.length);
      }
      folded += f;
      offset += ch.length;
    }
    return { folded, starts, ends };
  }

  function escapeForClass(chars) {
    return chars.replace(/[\\\]\[^-]/g, "\\$&");
  }

  function termRegExp(term) {
    const words = Array.from(String(term)).map(foldChar).join("").split(/\s+/).filter(Boolean);
    if (!words.length) return null;
    const pattern = words
      .map((word) =>
        Array.from(word)
          .map((c) => `[${escapeForClass(LEET[c] || c)}]+`)
          .join(SEPARATORS),
      )
      .join("[\\s._*\\-]+");
    const prefix = /\p{Script=Arabic}/u.test(words[0]) ? ARABIC_PREFIX : "";
    try {
      return new RegExp(`(?<![\\p{L}\\p{N}])${prefix}(?:${pattern})(?![\\p{L}\\p{N}])`, "gu");
    } catch {
      return null;
    }
  }

  function matchRanges(text, terms) {
    if (!terms.length || !text) return [];
    const { folded, starts, ends } = foldWithOffsets(text);
    const ranges = [];
    for (const term of terms) {
      const re = termRegExp(term);
      if (!re) continue;
      for (const m of folded.matchAll(re)) {
        if (!m[0].length) continue;
        ranges.push([starts[m.index], ends[m.index + m[0].length - 1]]);
      }
    }
    ranges.sort((x, y) => x[0] - y[0]);
    const merged = [];
    for (const range of ranges) {
      const last = merged[merged.length - 1];
      if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
      else merged.push([...range]);
    }
    return merged;
  }

  // `text` as text nodes, with the words matching `terms` wrapped in <mark>.
  function highlighted(text, terms) {
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const [start, end] of matchRanges(text, terms)) {
      if (start > at) fragment.append(isolated(text.slice(at, start)));
      fragment.append(el("mark", "match", text.slice(start, end)));
      at = end;
    }
    if (at < text.length) fragment.append(isolated(text.slice(at)));
    return fragment;
  }

  // Links, e-mail addresses and numbers written in groups ("06 12 34 56 78",
  // "+212 612-345678") read left to right whatever surrounds them: in an Arabic
  // sentence the bidi algorithm would otherwise draw the groups in reverse order.
  const LEFT_TO_RIGHT = /(?:https?:\/\/|www\.)[^\s]+|[^\s@]+@[^\s@]+\.[a-z]{2,}|\+?\d(?:[\d .\-\/]*\d)?/giu;

  function isolated(text) {
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const found of text.matchAll(LEFT_TO_RIGHT)) {
      if (!/[\s.\-\/@:]/.test(found[0]) && !/^\+/.test(found[0])) continue; // one plain number
      if (found.index > at) fragment.append(document.createTextNode(text.slice(at, found.index)));
      const run = el("bdi", "ltr-run", found[0]);
      run.dir = "ltr";
      fragment.append(run);
      at = found.index + found[0].length;
    }
    if (at < text.length) fragment.append(document.createTextNode(text.slice(at)));
    return fragment;
  }

  function matchedTerms(decision) {
    return reasonsOf(decision)
      .filter((r) => r.code && r.code.startsWith("wordlist.") && r.match)
      .map((r) => String(r.match));
  }

  // ---------------------------------------------------------------------------
  // Reasons and scores
  // ---------------------------------------------------------------------------
  function reasonsOf(decision) {
    return decision && Array.isArray(decision.reasons) ? decision.reasons : [];
  }

  function reasonFamily(code) {
    return String(code).split(".")[0].replace(/[^a-z_]/g, "");
  }

  function labelName(label) {
    const key = `label_${label}`;
    return t(key) === key ? String(label).replace(/_/g, " ") : t(key);
  }

  // A reason code in plain words: "toxicity.insult" is "insult", "spam.likely" "likely spam".
  function reasonName(code) {
    const [family, ...rest] = String(code).split(".");
    const detail = rest.join(".");
    if (family === "toxicity") return labelName(detail);
    const key = `reason_${String(code).replace(/\./g, "_")}`;
    if (hasString(key)) return t(key);
    if (family === "check_failed") return t("reason_check_failed", { check: labelName(detail) });
    return String(code);
  }

  // One chip per reason: its name, then what it rests on (score ≥ threshold,
  // the matched word, the language): "insult 0.93 ≥ 0.60", "insulte : 0,93 ≥ 0,60".
  function reasonChip(reason) {
    const chip = el("li", `chip chip-${reasonFamily(reason.code)}`);
    chip.title = String(reason.code);
    chip.append(el("span", "chip-label", reasonName(reason.code)));
    if (isNumber(reason.score)) {
      let text = formatScore(reason.score);
      if (isNumber(reason.threshold)) text += ` ≥ ${formatScore(reason.threshold)}`;
      const score = el("span", "chip-score", text);
      score.dir = "ltr"; // "0.93 ≥ 0.60" reads the same in a right-to-left interface
      chip.append(document.createTextNode(t("score_separator")), score);
    }
    if (reason.match) {
      chip.append(
        document.createTextNode(t("detail_separator")),
        userText("span", "chip-match", reason.match),
      );
      // What the listed word means, "7mar (« âne », insulte)"; its languages in the tooltip.
      if (reason.meaning) {
        chip.append(" ", userText("span", "chip-meaning", `(${reason.meaning})`));
      }
      if (Array.isArray(reason.languages)) chip.title += ` · ${reason.languages.join(" ")}`;
    }
    if (reason.detail && LANGUAGE_ONLY.has(reason.code)) {
      chip.append(document.createTextNode(t("detail_separator") + languageName(reason.detail)));
    }
    return chip;
  }

  // A spam reason also says what gave the comment away, in words.
  function reasonChips(decision) {
    const list = el("ul", "chips");
    const signals = decision && decision.scores && decision.scores.spam && decision.scores.spam.signals;
    for (const reason of reasonsOf(decision)) {
      const chip = reasonChip(reason);
      if (String(reason.code).startsWith("spam.") && Array.isArray(signals) && signals.length) {
        const why = el("span", "chip-signals");
        signals.forEach((signal, index) => {
          if (index) why.append(", ");
          why.append(signalItem("span", signal));
        });
        chip.append(t("detail_separator"), why);
      }
      list.append(chip);
    }
    return list;
  }

  function thresholdsOf(decision) {
    const thresholds = {};
    for (const reason of reasonsOf(decision)) {
      if (String(reason.code).startsWith("toxicity.") && typeof reason.threshold === "number") {
        thresholds[reason.code.slice(9)] = reason.threshold;
      }
    }
    return thresholds;
  }

  function scoreRow(name, value, threshold) {
    const row = el("div", "score-row");
    row.append(el("span", "score-name", name));
    const meter = document.createElement("meter");
    meter.min = 0;
    meter.max = 1;
    meter.value = typeof value === "number" ? value : 0;
    if (typeof threshold === "number") {
      // At or under the threshold reads as fine, over it as a warning.
      meter.low = threshold;
      meter.high = threshold;
      meter.optimum = 0;
    }
    meter.setAttribute("aria-label", name);
    row.append(meter);
    let text = formatScore(value);
    if (typeof threshold === "number") text += ` ≥ ${formatScore(threshold)}`;
    const number = el("span", "score-value", text);
    number.dir = "ltr";
    row.append(number);
    if (typeof threshold === "number" && value >= threshold) row.classList.add("is-over");
    return row;
  }

  function renderScores(container, decision) {
    container.replaceChildren();
    const scores = (decision && decision.scores) || {};
    const toxicity = scores.toxicity || {};
    const thresholds = thresholdsOf(decision);
    // No bars for a language the model does not read: its scores say nothing, and
    // bars at 0 would read as "checked and clean".
    const unread = !readByModel(decision);
    const labels = unread ? [] : Object.keys(toxicity).sort((x, y) => toxicity[y] - toxicity[x]);
    for (const label of labels) {
      container.append(scoreRow(labelName(label), toxicity[label], thresholds[label]));
    }
    if (scores.spam && typeof scores.spam.score === "number") {
      const spamReason = reasonsOf(decision).find((r) => String(r.code).startsWith("spam."));
      container.append(scoreRow(t("spam_score"), scores.spam.score, spamReason?.threshold));
      const signals = Array.isArray(scores.spam.signals) ? scores.spam.signals : [];
      if (signals.length) {
        const list = el("ul", "signals");
        for (const signal of signals) list.append(signalItem("li", signal));
        container.append(list);
      }
    }
    if (!labels.length) {
      const failed = reasonsOf(decision).some((r) => r.code === "check_failed.toxicity");
      const key = unread ? "toxicity_not_scored_language" : "toxicity_not_scored";
      if (!failed) container.prepend(el("p", "muted not-scored", t(key)));
    }
    if (!container.childElementCount) container.append(el("p", "muted", t("no_scores")));
  }

  const LANGUAGE_ONLY = new Set(["language.not_covered", "site_model.unproven", "site_model.audit_sample"]);

  // Whether the toxicity model reads the comment's language: the record says so
  // (`language.read_by_model`); older records only through their reasons.
  function readByModel(decision) {
    const language = (decision && decision.language) || {};
    if (typeof language.read_by_model === "boolean") return language.read_by_model;
    return !reasonsOf(decision).some((r) => LANGUAGE_ONLY.has(r.code));
  }

  // A spam signal from the worker ("repeated_body:5", "burst_ip:6", "links:3") in plain
  // words: "the same text sent 5 more times in 1 hour". One the page does not know is
  // shown as it came; the site model's clues (readers' words) stay isolated text.
  function signalItem(tag, signal) {
    const text = String(signal);
    const cut = text.indexOf(":");
    const [name, detail] = cut < 0 ? [text, ""] : [text.slice(0, cut), text.slice(cut + 1)];
    const key = `signal_${name}`;
    if (!/^[a-z_]+$/.test(name) || !hasString(key)) return userText(tag, "signal", text);
    const item = el(tag, "signal");
    item.title = text;
    if (name === "content") {
      item.append(t(key));
      if (detail) item.append(t("detail_separator"), userText("span", "signal-clues", detail));
      return item;
    }
    const window = name === "repeated_body" ? state.windows.spam_s : state.windows.burst_s;
    const n = name === "bayes" ? formatScore(Number(detail)) : detail.replace(/s$/, "");
    item.append(t(key, { n, window: formatDuration(window) }));
    return item;
  }

  // 3600 → "1 hour", "1 heure", "ساعة واحدة"; 600 → "10 minutes".
  function formatDuration(seconds) {
    const value = Number(seconds) || 0;
    const [amount, unit] =
      value % 3600 === 0 && value >= 3600
        ? [value / 3600, "hour"]
        : value % 60 === 0 && value >= 60
          ? [value / 60, "minute"]
          : [value, "second"];
    return new Intl.NumberFormat(state.lang, { style: "unit", unit, unitDisplay: "long" }).format(
      amount,
    );
  }

  // ---------------------------------------------------------------------------
  // The API
  // ---------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, problem) {
      super(`HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  // One call with the token in the Authorization header; an ApiError unless 2xx.
  async function request(method, path, { body, accept } = {}) {
    const headers = {
      Accept: accept || "application/json, application/problem+json",
      "Accept-Language": state.lang,
      Authorization: `Bearer ${state.token}`,
    };
    const init = { method, headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, null);
    }
    if (!response.ok) {
      let problem = null;
      try {
        problem = await response.json();
      } catch {
        problem = null;
      }
      throw new ApiError(response.status, problem);
    }
    return response;
  }

  async function api(method, path, body) {
    const response = await request(method, path, { body });
    try {
      return await response.json();
    } catch {
      return null;
    }
  }

  function problemMessage(error) {
    if (error.status === 0) return t("network_error");
    const problem = error.problem || {};
    if (Array.isArray(problem.errors) && problem.errors.length) {
      return problem.errors.map((e) => e.message || e.code).join(" ");
    }
    return problem.title || t("error_generic", { status: error.status });
  }

  // Any failed call: a refused token ends the session, the rest is announced.
  function failed(error) {
    if (error.status === 401 || error.status === 403) {
      signOut(t("session_ended"));
      return;
    }
    announce(problemMessage(error), "error");
  }

  function queryString(params) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== "") query.set(name, value);
    }
    return query.toString();
  }

  // ---------------------------------------------------------------------------
  // Sign in / out
  // ---------------------------------------------------------------------------
  async function signIn(token, { quiet } = {}) {
    state.token = token;
    try {
      const me = await api("GET", "/v1/moderation/me");
      state.me = me.name;
      if (me.windows) state.windows = me.windows;
    } catch (error) {
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn();
      if (error.status === 401 || error.status === 403) {
        if (!quiet) showSignInError(t("token_refused"));
        else announce(t("session_ended"));
      } else {
        showSignInError(problemMessage(error));
      }
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    showWorkspace();
    announce(t("welcome", { name: state.me }));
    await Promise.all([loadQueue({ focus: true }), loadStats()]);
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.me = null;
    state.items = [];
    state.checked.clear();
    state.notices.clear();
    state.selectedId = null;
    $("queue-list").replaceChildren();
    clearDetail();
    state.report = null;
    state.reportWindow = null;
    $("report-rows").replaceChildren();
    showView("queue");
    showSignIn();
    announce(message || t("signed_out"));
  }

  function showSignInError(message) {
    const error = $("signin-error");
    error.textContent = message;
    error.hidden = false;
    $("token-input").setAttribute("aria-invalid", "true");
    $("token-input").focus();
  }

  function showSignIn() {
    $("workspace").hidden = true;
    $("signin").hidden = false;
    $("sign-out").hidden = true;
    $("signed-in-as").hidden = true;
    $("help-button").hidden = true;
    $("token-input").value = "";
    $("token-input").focus();
  }

  function showWorkspace() {
    $("signin").hidden = true;
    $("signin-error").hidden = true;
    $("token-input").value = "";
    $("token-input").removeAttribute("aria-invalid");
    $("workspace").hidden = false;
    $("sign-out").hidden = false;
    $("help-button").hidden = false;
    const who = $("signed-in-as");
    who.textContent = t("signed_in_as", { name: state.me });
    who.dir = "auto";
    who.hidden = false;
  }

  // ---------------------------------------------------------------------------
  // The queue
  // ---------------------------------------------------------------------------
  async function loadQueue({ append = false, focus = false } = {}) {
    const seq = ++state.queueSeq;
    const params = {
      state: state.queue,
      article_id: state.filters.article_id,
      language: state.filters.language,
      family: state.filters.family,
      rank: state.filters.rank,
      limit: PAGE_SIZE,
      cursor: append ? state.nextCursor : null,
    };
    $("queue-list").setAttribute("aria-busy", "true");
    let page;
    try {
      page = await api("GET", `/v1/moderation/queue?${queryString(params)}`);
    } catch (error) {
      failed(error);
      return;
    } finally {
      if (seq === state.queueSeq) $("queue-list").removeAttribute("aria-busy");
    }
    if (seq !== state.queueSeq) return;
    const items = Array.isArray(page.items) ? page.items : [];
    if (append) {
      state.items.push(...items.filter((i) => !state.items.some((j) => j.id === i.id)));
    } else {
      state.items = items;
      state.checked.clear();
      state.notices.clear();
    }
    state.nextCursor = page.next_cursor || null;
    renderQueue();
    if (!append) loadSummary();
    if (!append) {
      const keep = state.items.find((i) => i.id === state.selectedId);
      select(keep ? keep.id : state.items[0]?.id ?? null, { focus });
    }
  }

  async function loadStats() {
    let stats;
    try {
      stats = await api("GET", "/v1/moderation/stats");
    } catch (error) {
      if (error.status === 401 || error.status === 403) failed(error);
      return;
    }
    const queues = stats.queues || {};
    for (const node of document.querySelectorAll("[data-count]")) {
      const count = queues[node.dataset.count];
      node.textContent = typeof count === "number" ? String(count) : "";
    }
    const oldest = stats.oldest_held_age_s;
    $("oldest").textContent =
      typeof oldest === "number" ? t("oldest_held", { age: formatAge(oldest) }) : "";
  }

  function renderQueue() {
    const list = $("queue-list");
    list.replaceChildren(...state.items.map(renderItem));
    renderWhy();
    $("queue-empty").hidden = state.items.length > 0;
    $("load-more").hidden = !state.nextCursor;
    for (const button of document.querySelectorAll(".state")) {
      const pressed = state.view === "queue" && button.dataset.state === state.queue;
      button.setAttribute("aria-pressed", String(pressed));
    }
    markSelected();
    renderBulkBar();
  }

  function itemNode(id) {
    return document.querySelector(`#queue-list > li[data-id="${CSS.escape(id)}"]`);
  }

  function renderItem(item) {
    const decision = item.decision || null;
    const li = el("li", "item");
    li.dataset.id = item.id;
    li.tabIndex = -1;
    li.setAttribute("aria-labelledby", `name-${item.id}`);

    const head = el("div", "item-head");
    const pick = document.createElement("input");
    pick.type = "checkbox";
    pick.className = "pick";
    pick.checked = state.checked.has(item.id);
    pick.setAttribute("aria-label", t("select_comment", { name: item.name || "" }));
    pick.addEventListener("change", () => setChecked(item.id, pick.checked));
    head.append(pick);

    const name = userText("span", "name", item.name);
    name.id = `name-${item.id}`;
    name.replaceChildren(highlighted(String(item.name ?? ""), matchedTerms(decision)));
    head.append(name);

    const meta = el("span", "meta");
    meta.append(el("span", "meta-label", `${t("article")} `));
    meta.append(userText("span", "article-id", item.article_id));
    const language = decision && decision.language;
    if (language && language.code) {
      meta.append(el("span", "lang-chip", languageName(language.code)));
    }
    if (item.status === "held" && decision && RANKS.includes(decision.rank)) {
      meta.append(el("span", `rank-chip rank-${decision.rank}`, t(`rank_chip_${decision.rank}`)));
    }
    meta.append(timeElement(item.created_at, { relative: true }));
    head.append(meta);
    li.append(head);

    if (item.parent_id) {
      const reply = el("p", "reply", `${t("reply_to")} `);
      reply.append(userText("span", "parent-id", item.parent_id));
      li.append(reply);
    }

    const body = userText("p", "body", "");
    body.append(highlighted(String(item.body ?? ""), matchedTerms(decision)));
    li.append(body);

    if (reasonsOf(decision).length) li.append(reasonChips(decision));

    const notice = state.notices.get(item.id);
    if (notice) li.append(el("p", "item-notice", notice));

    const actions = el("div", "actions");
    for (const action of OFFERED[item.status] || []) {
      const button = el("button", `action ${action === "approve" ? "approve" : "reject"}`);
      button.type = "button";
      button.dataset.action = action;
      button.append(document.createTextNode(t(action)));
      const kbd = el("kbd", "hint", ACTION_KEYS[action]);
      kbd.setAttribute("aria-hidden", "true");
      button.append(kbd);
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        select(item.id);
        decideOne(item.id, action);
      });
      actions.append(button);
    }
    if (item.status !== state.queue) {
      actions.append(el("span", "status-badge", statusName(item.status)));
    }
    li.append(actions);

    li.addEventListener("click", (event) => {
      if (event.target.closest("button, input, a")) return;
      select(item.id, { focus: true });
      if (PHONE.matches) openDetailView();
    });
    return li;
  }

  // ---------------------------------------------------------------------------
  // At phone width a comment opens in its own view; back returns to the queue
  // where it was (the browser's back button too).
  // ---------------------------------------------------------------------------
  const PHONE = window.matchMedia("(max-width: 40rem)");
  let queueScroll = 0;

  function openDetailView() {
    if (document.body.classList.contains("detail-open")) return;
    queueScroll = window.scrollY;
    document.body.classList.add("detail-open");
    history.pushState({ detail: state.selectedId }, "");
    window.scrollTo(0, 0);
    $("detail-back").focus();
  }

  function closeDetailView() {
    if (!document.body.classList.contains("detail-open")) return;
    document.body.classList.remove("detail-open");
    window.scrollTo(0, queueScroll);
    const li = state.selectedId ? itemNode(state.selectedId) : null;
    if (li) li.focus({ preventScroll: true });
  }

  function markSelected() {
    for (const li of $("queue-list").children) {
      const selected = li.dataset.id === state.selectedId;
      li.classList.toggle("is-selected", selected);
      li.classList.toggle("is-checked", state.checked.has(li.dataset.id));
      if (selected) li.setAttribute("aria-current", "true");
      else li.removeAttribute("aria-current");
      li.tabIndex = selected ? 0 : -1;
    }
  }

  function select(id, { focus = false } = {}) {
    const changed = id !== state.selectedId;
    state.selectedId = id;
    markSelected();
    const li = id ? itemNode(id) : null;
    if (li) {
      li.scrollIntoView({ block: "nearest" });
      if (focus) li.focus({ preventScroll: true });
    } else if (focus) {
      $("queue-list").focus();
    }
    if (!id) clearDetail();
    else if (changed || $("detail-body").hidden) loadDetail(id);
  }

  function move(step) {
    if (!state.items.length) return;
    const index = state.items.findIndex((i) => i.id === state.selectedId);
    const next = Math.min(state.items.length - 1, Math.max(0, index + step));
    select(state.items[index < 0 ? 0 : next].id, { focus: true });
  }

  function selectedItem() {
    return state.items.find((i) => i.id === state.selectedId) || null;
  }

  // After an item leaves the list: the one that took its place, or the one before.
  function removeItems(ids) {
    const gone = new Set(ids);
    const index = state.items.findIndex((i) => i.id === state.selectedId);
    const hadFocus =
      $("queue-list").contains(document.activeElement) || document.activeElement === document.body;
    const remaining = state.items.filter((i) => !gone.has(i.id));
    let nextId = state.selectedId;
    if (gone.has(state.selectedId)) {
      const after = state.items.slice(index + 1).find((i) => !gone.has(i.id));
      const before = state.items
        .slice(0, Math.max(index, 0))
        .reverse()
        .find((i) => !gone.has(i.id));
      nextId = (after || before || {}).id ?? null;
    }
    state.items = remaining;
    for (const id of gone) {
      state.checked.delete(id);
      state.notices.delete(id);
      itemNode(id)?.remove();
    }
    $("queue-empty").hidden = state.items.length > 0;
    renderBulkBar();
    select(nextId, { focus: hadFocus });
    if (!state.items.length && state.nextCursor) loadQueue();
  }

  function replaceItem(item) {
    const index = state.items.findIndex((i) => i.id === item.id);
    if (index < 0) return;
    state.items[index] = item;
    itemNode(item.id)?.replaceWith(renderItem(item));
    markSelected();
  }

  // ---------------------------------------------------------------------------
  // Decisions
  // ---------------------------------------------------------------------------
  function takeNote() {
    const input = $("note-input");
    const note = input.value.trim();
    input.value = "";
    return note;
  }

  // What a rejection or take-down teaches the models (spam, abusive, or nothing),
  // as the API's flags; the choice goes back to "nothing" after each action.
  function takeKind(action) {
    const chosen = document.querySelector('#reject-kind input[name="kind"]:checked');
    const kind = chosen ? chosen.value : "";
    const other = document.querySelector('#reject-kind input[name="kind"][value=""]');
    if (other) other.checked = true;
    if (action === "approve" || !kind) return {};
    return { [kind]: true };
  }

  async function decideOne(id, action) {
    const item = state.items.find((i) => i.id === id);
    if (!item) {
      announce(t("nothing_selected"));
      return;
    }
    if (!(ACTIONS[action] || []).includes(item.status)) {
      announce(t("not_available"));
      return;
    }
    if (state.busy.has(id)) return;
    state.busy.add(id);
    itemNode(id)?.setAttribute("aria-busy", "true");
    const note = takeNote();
    const body = { action, from_status: item.status, ...takeKind(action) };
    if (note) body.reason = note;
    try {
      await api("POST", `/v1/moderation/comments/${encodeURIComponent(id)}/decision`, body);
      announce(t(`done_${action}`, { name: item.name || "" }));
      removeItems([id]);
      loadStats();
    } catch (error) {
      if (error.status === 409) {
        const now = error.problem.current_status;
        announce(t("conflict", { status: statusName(now) }), "error");
        await refreshItem(id);
      } else if (error.status === 404) {
        announce(t("gone"), "error");
        removeItems([id]);
      } else {
        failed(error);
      }
    } finally {
      state.busy.delete(id);
      itemNode(id)?.removeAttribute("aria-busy");
    }
  }

  // A comment that moved under our feet: fetch it again and show where it is now.
  async function refreshItem(id) {
    let file;
    try {
      file = await api("GET", `/v1/moderation/comments/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error.status === 404) removeItems([id]);
      else failed(error);
      return;
    }
    const item = { ...file.comment, decision: file.decision };
    if (item.status !== state.queue) {
      state.notices.set(id, t("conflict_notice", { status: statusName(item.status) }));
      state.checked.delete(id);
    }
    replaceItem(item);
    renderBulkBar();
    if (state.selectedId === id) showDetail(file);
    loadStats();
  }

  function setChecked(id, checked) {
    if (checked) state.checked.add(id);
    else state.checked.delete(id);
    const pick = itemNode(id)?.querySelector(".pick");
    if (pick) pick.checked = checked;
    markSelected();
    renderBulkBar();
  }

  function renderBulkBar() {
    const count = state.checked.size;
    $("bulk-bar").hidden = count === 0 || state.view !== "queue";
    $("bulk-count").textContent = t("bulk_selected", { count });
    const offered = new Set(OFFERED[state.queue] || []);
    $("bulk-approve").hidden = !offered.has("approve");
    $("bulk-reject").hidden = !offered.has("reject");
    $("bulk-takedown").hidden = !offered.has("takedown");
  }

  // ---------------------------------------------------------------------------
  // Why: the held queue by reason family and by the site model's rank
  // ---------------------------------------------------------------------------
  const FAMILIES = ["language", "words", "spam", "toxicity", "site_model", "check_failed"];
  const RANKS = ["likely_fine", "suspect"];

  async function loadSummary() {
    if (state.queue !== "held") {
      state.summary = null;
      renderWhy();
      return;
    }
    const params = {
      state: state.queue,
      article_id: state.filters.article_id,
      language: state.filters.language,
    };
    try {
      state.summary = await api("GET", `/v1/moderation/queue/summary?${queryString(params)}`);
    } catch (error) {
      if (error.status === 401 || error.status === 403) failed(error);
      return;
    }
    renderWhy();
  }

  function renderWhy() {
    const summary = state.summary || {};
    fillChoices($("filter-family"), "family", FAMILIES, summary.families, state.filters.family);
    fillChoices($("filter-rank"), "rank", RANKS, summary.ranks, state.filters.rank);
    const shown = likelyFineShown();
    const button = $("approve-likely-fine");
    button.hidden = !shown.length || state.queue !== "held" || state.view !== "queue";
    button.textContent = t("approve_likely_fine", { count: formatCount(shown.length) });
  }

  // "Its language alone (120)": each choice with how many held comments it has.
  function fillChoices(select, kind, values, counts, current) {
    const any = el("option", null, t(`${kind}_any`));
    any.value = "";
    const options = values.map((value) => {
      const count = counts && isNumber(counts[value]) ? ` (${formatCount(counts[value])})` : "";
      const option = el("option", null, t(`${kind}_${value}`) + count);
      option.value = value;
      return option;
    });
    select.replaceChildren(any, ...options);
    select.value = current;
  }

  function likelyFineShown() {
    return state.items.filter(
      (i) => i.status === "held" && i.decision && i.decision.rank === "likely_fine",
    );
  }

  // One confirmed bulk approval of the likely-fine comments on screen, audited one by one.
  async function approveLikelyFine() {
    const shown = likelyFineShown();
    if (!shown.length) return;
    if (!window.confirm(t("approve_likely_fine_confirm", { count: formatCount(shown.length) }))) {
      return;
    }
    state.checked = new Set(shown.map((i) => i.id));
    await decideMany("approve");
    renderWhy();
    loadSummary();
  }

  async function decideMany(action) {
    const targets = state.items.filter(
      (i) => state.checked.has(i.id) && (ACTIONS[action] || []).includes(i.status),
    );
    if (!targets.length) {
      announce(t("bulk_none"));
      return;
    }
    const note = takeNote();
    const body = {
      action,
      items: targets.map((i) => ({ id: i.id, from_status: i.status })),
      ...takeKind(action),
    };
    if (note) body.reason = note;
    let answer;
    try {
      answer = await api("POST", "/v1/moderation/decisions", body);
    } catch (error) {
      failed(error);
      return;
    }
    const results = Array.isArray(answer.results) ? answer.results : [];
    const done = results.filter((r) => r.outcome === "ok").map((r) => r.id);
    const conflicts = results.filter((r) => r.outcome === "conflict").map((r) => r.id);
    const missing = results.filter((r) => r.outcome === "not_found").map((r) => r.id);
    removeItems([...done, ...missing]);
    for (const id of conflicts) await refreshItem(id);
    announce(
      t("bulk_done", { ok: done.length, conflict: conflicts.length, missing: missing.length }),
      conflicts.length ? "error" : undefined,
    );
    loadStats();
  }

  // ---------------------------------------------------------------------------
  // The selected comment's file: facts, scores, history
  // ---------------------------------------------------------------------------
  function clearDetail() {
    state.detailSeq += 1;
    $("detail-body").hidden = true;
    $("detail-empty").hidden = false;
  }

  async function loadDetail(id) {
    const seq = ++state.detailSeq;
    $("detail").setAttribute("aria-busy", "true");
    let file;
    try {
      file = await api("GET", `/v1/moderation/comments/${encodeURIComponent(id)}`);
    } catch (error) {
      if (seq === state.detailSeq) $("detail").removeAttribute("aria-busy");
      if (error.status === 404) {
        announce(t("gone"), "error");
        removeItems([id]);
      } else {
        failed(error);
      }
      return;
    }
    if (seq !== state.detailSeq || state.selectedId !== id) return;
    $("detail").removeAttribute("aria-busy");
    showDetail(file);
  }

  function fact(list, key, value, { user = false, code = false } = {}) {
    if (value === null || value === undefined || value === "") return;
    list.append(el("dt", null, t(key)));
    const dd = el("dd");
    if (value instanceof Node) dd.append(value);
    else if (user) dd.append(userText(code ? "code" : "span", null, value));
    else dd.append(el(code ? "code" : "span", null, value));
    list.append(dd);
  }

  // The automatic record, when the current one is a person's: it has the scores.
  function scoredRecord(file) {
    const history = Array.isArray(file.history) ? file.history : [];
    const withScores = [file.decision, ...history.slice().reverse()].find((d) => d && d.scores);
    return withScores || file.decision || null;
  }

  // At phone width the detail is a view of its own: the comment, its reasons and the
  // actions are repeated there (the queue's card is out of sight).
  function renderDetailCard(id) {
    const box = $("detail-card");
    const item = state.items.find((i) => i.id === id);
    if (!item) {
      box.replaceChildren();
      return;
    }
    const body = userText("p", "body", "");
    body.replaceChildren(highlighted(String(item.body ?? ""), matchedTerms(item.decision)));
    const actions = el("div", "actions");
    for (const action of OFFERED[item.status] || []) {
      const button = el("button", `action ${action === "approve" ? "approve" : "reject"}`);
      button.type = "button";
      button.textContent = t(action);
      button.addEventListener("click", async () => {
        await decideOne(item.id, action);
        if (document.body.classList.contains("detail-open")) history.back();
      });
      actions.append(button);
    }
    box.replaceChildren(body);
    if (reasonsOf(item.decision).length) box.append(reasonChips(item.decision));
    box.append(actions);
  }

  function showDetail(file) {
    const comment = file.comment || {};
    const scored = scoredRecord(file);
    renderDetailCard(comment.id);
    const facts = $("detail-facts");
    facts.replaceChildren();
    fact(facts, "fact_name", comment.name, { user: true });
    fact(facts, "fact_article", comment.article_id, { user: true, code: true });
    fact(facts, "fact_parent", comment.parent_id, { user: true, code: true });
    fact(facts, "fact_url", comment.url, { user: true, code: true });
    fact(facts, "fact_status", statusName(comment.status));
    fact(facts, "fact_created", timeElement(comment.created_at));
    if (comment.decided_at) fact(facts, "fact_decided", timeElement(comment.decided_at));
    const language = scored && scored.language;
    if (language && language.code) {
      const script = language.script && language.script !== "none";
      const text = languageName(language.code) + (script ? ` · ${t(`script_${language.script}`)}` : "");
      fact(facts, "fact_language", text);
    }
    if (comment.email_hash) {
      fact(facts, "fact_email_hash", String(comment.email_hash).slice(0, 16), { code: true });
    }
    if (scored && scored.model && scored.model.name) {
      fact(facts, "fact_model", scored.model.name, { code: true });
    }
    if (scored && scored.policy) {
      fact(facts, "fact_policy", String(scored.policy).slice(0, 12), { code: true });
    }
    renderScores($("detail-scores"), scored);
    renderAudit($("detail-audit"), Array.isArray(file.history) ? file.history : []);
    $("detail-empty").hidden = true;
    $("detail-body").hidden = false;
  }

  function renderAudit(list, history) {
    list.replaceChildren();
    if (!history.length) {
      list.append(el("li", "muted", t("audit_empty")));
      return;
    }
    for (const record of history) {
      const entry = el("li", `audit-entry ${record.by === "auto" ? "is-auto" : "is-human"}`);
      const head = el("div", "audit-head");
      head.append(el("span", `status-badge status-${record.decision}`, statusName(record.decision)));
      const by = userText("span", "audit-by", byName(record.by));
      by.title = String(record.by || "");
      head.append(by);
      head.append(timeElement(record.at));
      entry.append(head);
      if (record.action) entry.append(el("p", "audit-action", t("action_label", { action: t(record.action) })));
      if (reasonsOf(record).length) entry.append(reasonChips(record));
      if (record.by === "auto" && (record.model || record.policy)) {
        const model = (record.model && record.model.name) || "–";
        const policy = record.policy ? String(record.policy).slice(0, 12) : "–";
        entry.append(el("p", "audit-model", t("audit_model", { model, policy })));
      }
      if (record.note) entry.append(userText("p", "audit-note", record.note));
      list.append(entry);
    }
  }

  // ---------------------------------------------------------------------------
  // The fairness report: per language and script, for a window of time
  // ---------------------------------------------------------------------------
  const HOUR_MS = 3600 * 1000;
  const RANGES = { "24h": 24 * HOUR_MS, "7d": 7 * 24 * HOUR_MS };
  const REPORT_PATH = "/v1/moderation/report";
  // The rates a flag can name (report.py), and the column each one highlights.
  const FLAGGED_COLUMNS = { hold_rate: "hold_rate", false_positive_rate: "false_positive_rate" };
  const FLAG_PATTERN = /^([a-z_]+) (\d+(?:\.\d+)?) vs (\d+(?:\.\d+)?) for the others$/;

  function showView(view) {
    state.view = view;
    const queue = view === "queue";
    $("report").hidden = view !== "report";
    $("policy").hidden = view !== "policy";
    $("panes").hidden = !queue;
    $("filters").hidden = !queue;
    $("oldest").hidden = !queue;
    renderBulkBar();
    renderWhy();
    $("report-tab").setAttribute("aria-pressed", String(view === "report"));
    $("policy-tab").setAttribute("aria-pressed", String(view === "policy"));
    for (const button of document.querySelectorAll(".state")) {
      button.setAttribute("aria-pressed", String(queue && button.dataset.state === state.queue));
    }
  }

  // ---------------------------------------------------------------------------
  // Try a policy: replayed by a worker over the last decisions, then promoted
  // ---------------------------------------------------------------------------
  const POLICY_LABELS = [
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
    "sexual_explicit",
  ];
  const POLL_MS = 400;

  async function openPolicy() {
    if (state.view === "policy") return;
    showView("policy");
    renderPolicyInputs();
    try {
      state.policy = await api("GET", "/v1/moderation/policy");
    } catch (error) {
      failed(error);
      return;
    }
    renderPolicyInputs();
  }

  // One input per label, its placeholder the threshold in force.
  function renderPolicyInputs() {
    const box = $("policy-thresholds");
    const current = (state.policy && state.policy.thresholds) || {};
    if (!box.childElementCount) {
      for (const label of POLICY_LABELS) {
        const field = el("label");
        const input = el("input");
        Object.assign(input, { type: "number", min: "0", max: "1", step: "0.01" });
        input.id = `policy-threshold-${label}`;
        input.inputMode = "decimal";
        field.append(el("span", null, labelName(label)), input);
        box.append(field);
      }
    }
    for (const label of POLICY_LABELS) {
      const input = $(`policy-threshold-${label}`);
      input.previousElementSibling.textContent = labelName(label);
      input.placeholder = isNumber(current[label]) ? formatScore(current[label]) : "";
    }
    for (const name of ["spam_hold", "spam_reject"]) {
      const value = state.policy && state.policy[name];
      $(`policy-${name}`).placeholder = isNumber(value) ? formatScore(value) : "";
    }
  }

  function policyCandidate() {
    const candidate = { last: Number($("policy-last").value) || 500 };
    const thresholds = {};
    for (const label of POLICY_LABELS) {
      const raw = $(`policy-threshold-${label}`).value;
      if (raw !== "") thresholds[label] = Number(raw);
    }
    if (Object.keys(thresholds).length) candidate.thresholds = thresholds;
    for (const name of ["spam_hold", "spam_reject"]) {
      const raw = $(`policy-${name}`).value;
      if (raw !== "") candidate[name] = Number(raw);
    }
    const rule = $("policy-language_not_covered").value;
    if (rule) candidate.language_not_covered = rule;
    return candidate;
  }

  async function tryPolicy() {
    $("policy-result").hidden = true;
    $("policy-status").textContent = t("policy_pending");
    let asked;
    try {
      asked = await api("POST", "/v1/moderation/policy/trials", policyCandidate());
    } catch (error) {
      $("policy-status").textContent = "";
      failed(error);
      return;
    }
    state.trialId = asked.id;
    const trial = await pollTrial(asked.id, ["pending"]);
    if (trial) renderTrial(trial);
  }

  // The trial once its status is none of `waiting` (a worker picks it up before its
  // next batch); null when it could not be read.
  async function pollTrial(id, waiting) {
    for (;;) {
      let trial;
      try {
        trial = await api("GET", `/v1/moderation/policy/trials/${encodeURIComponent(id)}`);
      } catch (error) {
        failed(error);
        return null;
      }
      if (!waiting.includes(trial.status)) return trial;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  function renderTrial(trial) {
    if (trial.status === "failed") {
      $("policy-status").textContent = t("policy_failed", { error: trial.error || "" });
      return;
    }
    const report = trial.report || {};
    $("policy-status").textContent = t("policy_done", {
      changed: formatCount(report.changed || 0),
      evaluated: formatCount(report.evaluated || 0),
    });
    const rows = Object.entries(report.languages || {}).map(([code, counts]) => {
      const tr = el("tr");
      tr.append(el("th", null, languageName(code)));
      tr.append(numberCell(formatCount(counts.evaluated)));
      tr.append(numberCell(`${formatCount(counts.held_now)} → ${formatCount(counts.held_candidate)}`));
      tr.append(
        numberCell(`${formatCount(counts.rejected_now)} → ${formatCount(counts.rejected_candidate)}`),
      );
      tr.append(numberCell(formatCount(counts.changed), { flagged: counts.changed > 0 }));
      tr.firstChild.scope = "row";
      return tr;
    });
    $("policy-rows").replaceChildren(...rows);
    const examples = [];
    for (const [transition, found] of Object.entries(report.examples || {})) {
      const [before, after] = transition.split("->");
      examples.push(el("h3", null, `${statusName(before)} → ${statusName(after)}`));
      const list = el("ul", "policy-examples");
      for (const example of found) {
        const li = el("li");
        li.append(el("span", "lang-chip", languageName(example.language)), " ");
        li.append(userText("span", "body", example.text));
        list.append(li);
      }
      examples.push(list);
    }
    $("policy-examples").replaceChildren(...examples);
    $("policy-promote").hidden = !report.changed;
    $("policy-result").hidden = false;
  }

  async function promotePolicy() {
    if (!state.trialId || !window.confirm(t("policy_promote_confirm"))) return;
    try {
      await api("POST", `/v1/moderation/policy/trials/${encodeURIComponent(state.trialId)}/promote`);
    } catch (error) {
      failed(error);
      return;
    }
    $("policy-status").textContent = t("policy_promoting");
    const trial = await pollTrial(state.trialId, ["done", "promoting"]);
    if (!trial) return;
    if (trial.status === "promoted") {
      $("policy-status").textContent = t("policy_promoted");
      $("policy-promote").hidden = true;
      announce(t("policy_promoted"));
    } else {
      $("policy-status").textContent = t("policy_failed", { error: trial.error || "" });
    }
  }

  function openReport() {
    if (state.view === "report") return;
    showView("report");
    loadReport();
  }

  // "2024-05-01T10:00" for an <input type="datetime-local">, in the browser's time zone.
  function localInputValue(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return (
      `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
      `T${pad(date.getHours())}:${pad(date.getMinutes())}`
    );
  }

  function onRangeChange() {
    const custom = $("report-range").value === "custom";
    for (const label of document.querySelectorAll(".report-custom")) label.hidden = !custom;
    if (custom) {
      // Start from the window shown, so "custom" begins as a small change of it.
      const shown = state.reportWindow;
      const until = shown ? new Date(shown.until) : new Date();
      const since = shown ? new Date(shown.since) : new Date(until.getTime() - RANGES["24h"]);
      if (!$("report-since").value) $("report-since").value = localInputValue(since);
      if (!$("report-until").value) $("report-until").value = localInputValue(until);
      $("report-since").focus();
    } else {
      loadReport();
    }
  }

  // The window the picker describes, or null when the custom one is incomplete or reversed.
  function pickedWindow() {
    const range = $("report-range").value;
    if (range in RANGES) {
      const until = new Date();
      return {
        since: new Date(until.getTime() - RANGES[range]).toISOString(),
        until: until.toISOString(),
      };
    }
    const since = parseDate($("report-since").value);
    const until = parseDate($("report-until").value);
    if (!since || !until || since > until) return null;
    return { since: since.toISOString(), until: until.toISOString() };
  }

  async function loadReport() {
    const period = pickedWindow();
    if (!period) {
      announce(t("report_window_invalid"), "error");
      return;
    }
    const seq = ++state.reportSeq;
    $("report").setAttribute("aria-busy", "true");
    let report;
    try {
      report = await api("GET", `${REPORT_PATH}?${queryString({ ...period, format: "json" })}`);
    } catch (error) {
      failed(error);
      return;
    } finally {
      if (seq === state.reportSeq) $("report").removeAttribute("aria-busy");
    }
    if (seq !== state.reportSeq) return;
    state.report = report || {};
    state.reportWindow = period;
    renderReport();
    announce(t("report_loaded", { count: reportRows().length }));
  }

  function reportRows() {
    const report = state.report || {};
    return Array.isArray(report.languages) ? report.languages : [];
  }

  function renderReport() {
    const report = state.report;
    if (!report) return;
    const rows = reportRows();
    $("report-shown").textContent = t("report_shown", {
      since: formatDate(report.since),
      until: formatDate(report.until),
    });
    $("report-rows").replaceChildren(...rows.flatMap(reportRow));
    $("report-table").hidden = !rows.length;
    $("report-empty").hidden = rows.length > 0;
    const rules = report.rules || {};
    $("report-rules").textContent =
      isNumber(rules.min_comments_to_flag) && isNumber(rules.min_difference) && isNumber(rules.alpha)
        ? t("report_rules", {
            min: formatCount(rules.min_comments_to_flag),
            difference: formatNumber(rules.min_difference * 100, { maximumFractionDigits: 0 }),
            alpha: formatNumber(rules.alpha, { maximumFractionDigits: 3 }),
          })
        : "";
  }

  // A flag from the API ("hold_rate 1.00 vs 0.20 for the others") in plain words;
  // one the page does not know is shown as it came.
  function parseFlag(flag) {
    const found = FLAG_PATTERN.exec(String(flag));
    if (!found || !hasString(`flag_rate_${found[1]}`)) return { rate: null, text: String(flag) };
    const [, rate, value, typical] = found;
    const above = Number(value) > Number(typical);
    const text = t(above ? "flag_above" : "flag_below", {
      rate: t(`flag_rate_${rate}`),
      value: formatPercent(Number(value)),
      typical: formatPercent(Number(typical)),
    });
    return { rate, text };
  }

  function numberCell(text, { title, flagged = false } = {}) {
    const cell = el("td", flagged ? "num is-flagged" : "num", text);
    if (title) cell.title = title;
    return cell;
  }

  function reasonCounts(reasons) {
    const list = el("ul", "reason-counts");
    for (const [code, count] of Object.entries(reasons || {})) {
      const entry = el("li", `chip chip-${reasonFamily(code)}`);
      entry.title = code;
      entry.append(el("span", "reason-count", formatCount(count)), el("span", null, reasonName(code)));
      list.append(entry);
    }
    return list;
  }

  // A language's row, then, when it is flagged, a row that says why.
  function reportRow(row) {
    const flags = (Array.isArray(row.flags) ? row.flags : []).map(parseFlag);
    const flaggedRates = new Set(flags.map((f) => FLAGGED_COLUMNS[f.rate]).filter(Boolean));
    const ratio = (n, of) => t("report_ratio", { n: formatCount(n), of: formatCount(of) });
    const tr = el("tr", flags.length ? "report-row is-flagged" : "report-row");
    tr.dataset.language = String(row.language ?? "");
    tr.dataset.script = String(row.script ?? "");
    const language = el("th", "report-language", languageName(row.language));
    language.scope = "row";
    tr.append(
      language,
      el("td", "report-script", scriptName(row.script)),
      numberCell(formatCount(row.seen)),
      numberCell(formatCount(row.published)),
      numberCell(formatCount(row.held)),
      numberCell(formatCount(row.rejected)),
      numberCell(formatPercent(row.hold_rate), {
        title: ratio(row.held, row.seen),
        flagged: flaggedRates.has("hold_rate"),
      }),
      numberCell(formatCount(row.approved_after_hold)),
      numberCell(formatPercent(row.false_positive_rate), {
        title: ratio(row.approved_after_hold, row.held),
        flagged: flaggedRates.has("false_positive_rate"),
      }),
      numberCell(formatCount(row.rejected_after_hold)),
      numberCell(formatCount(row.taken_down_after_publish)),
      numberCell(formatPercent(row.false_negative_rate), {
        title: ratio(row.taken_down_after_publish, row.published),
      }),
      numberCell(formatDuration(row.held_wait_median_s)),
      numberCell(formatDuration(row.held_wait_max_s)),
    );
    const reasons = el("td", "report-reasons");
    reasons.append(reasonCounts(row.reasons));
    tr.append(reasons);
    if (!flags.length) return [tr];
    const flagRow = el("tr", "flag-row");
    const cell = el("td");
    cell.colSpan = tr.children.length;
    const list = el("ul", "flags");
    for (const flag of flags) {
      const entry = el("li", "flag");
      const mark = el("span", "flag-mark", "⚑");
      mark.setAttribute("aria-hidden", "true");
      entry.append(mark, el("span", null, `${languageName(row.language)} · ${flag.text}`));
      list.append(entry);
    }
    cell.append(list);
    flagRow.append(cell);
    return [tr, flagRow];
  }

  // "fairness-20240501T1000Z-20240502T1000Z.csv": the window in the name, safe everywhere.
  function reportFileName(period, format) {
    const stamp = (iso) => iso.slice(0, 16).replace(/[-:]/g, "") + "Z";
    return `fairness-${stamp(period.since)}-${stamp(period.until)}.${format}`;
  }

  // The report of the window shown, fetched with the token (never in a URL) and saved
  // from a Blob through an object URL.
  async function downloadReport(format) {
    const period = state.reportWindow || pickedWindow();
    if (!period) {
      announce(t("report_window_invalid"), "error");
      return;
    }
    const accept = format === "csv" ? "text/csv" : "application/json";
    let blob;
    try {
      const path = `${REPORT_PATH}?${queryString({ ...period, format })}`;
      blob = await (await request("GET", path, { accept })).blob();
    } catch (error) {
      failed(error instanceof ApiError ? error : new ApiError(0, null));
      return;
    }
    const name = reportFileName(period, format);
    const url = URL.createObjectURL(blob);
    const link = el("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    announce(t("report_downloaded", { name }));
  }

  // ---------------------------------------------------------------------------
  // Keyboard
  // ---------------------------------------------------------------------------
  function renderHelp() {
    const list = $("help-keys");
    list.replaceChildren();
    for (const [keys, label] of KEYMAP) {
      const dt = el("dt");
      dt.append(el("kbd", null, keys));
      list.append(dt, el("dd", null, t(label)));
    }
  }

  function toggleHelp() {
    const dialog = $("help-dialog");
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  function isTyping(target) {
    if (!(target instanceof HTMLElement)) return false;
    if (target.isContentEditable) return true;
    if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
    return target instanceof HTMLInputElement && !["checkbox", "radio", "button"].includes(target.type);
  }

  // The key as the shortcuts name it; on a non-Latin layout (Arabic…) the key at
  // the same place as the Latin letter.
  function shortcutKey(event) {
    if (/^[\x20-\x7e]$/.test(event.key)) return event.key.toLowerCase();
    if (/^Key[A-Z]$/.test(event.code)) return event.code.slice(3).toLowerCase();
    return event.key;
  }

  function onKeyDown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!state.token || $("workspace").hidden) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if ($("help-dialog").open || state.view !== "queue") {
      // In the report no comment is on screen: only the help opens (and closes).
      if (event.key === "?") {
        event.preventDefault();
        toggleHelp();
      }
      return;
    }
    const inList = $("queue-list").contains(event.target);
    const key = shortcutKey(event);
    const handlers = {
      j: () => move(1),
      k: () => move(-1),
      ArrowDown: inList ? () => move(1) : null,
      ArrowUp: inList ? () => move(-1) : null,
      x: () => state.selectedId && setChecked(state.selectedId, !state.checked.has(state.selectedId)),
      a: () => (event.shiftKey ? decideMany("approve") : decideOne(state.selectedId, "approve")),
      r: () => (event.shiftKey ? decideMany("reject") : decideOne(state.selectedId, "reject")),
      t: () => (event.shiftKey ? decideMany("takedown") : decideOne(state.selectedId, "takedown")),
      "?": toggleHelp,
      Escape: () => state.checked.size && clearChecked(),
    };
    const handler = handlers[key];
    if (!handler) return;
    event.preventDefault();
    handler();
  }

  function clearChecked() {
    state.checked.clear();
    for (const pick of document.querySelectorAll("#queue-list .pick")) pick.checked = false;
    markSelected();
    renderBulkBar();
  }

  // ---------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------
  function switchQueue(queue) {
    if (state.view !== "queue") showView("queue");
    if (queue === state.queue) return;
    state.queue = queue;
    state.selectedId = null;
    state.items = [];
    state.nextCursor = null;
    renderQueue();
    clearDetail();
    loadQueue();
  }

  function wire() {
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim();
      if (!token) {
        showSignInError(t("token_missing"));
        return;
      }
      signIn(token);
    });
    $("sign-out").addEventListener("click", () => signOut());
    $("lang-select").addEventListener("change", (event) => {
      state.lang = LANGUAGES.includes(event.target.value) ? event.target.value : "en";
      localStorage.setItem(LANG_KEY, state.lang);
      applyLanguage();
      if (state.token) {
        renderQueue();
        if (state.selectedId) loadDetail(state.selectedId);
        loadStats();
        renderReport();
      }
    });
    for (const button of document.querySelectorAll(".state")) {
      button.addEventListener("click", () => switchQueue(button.dataset.state));
    }
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      state.filters.article_id = $("filter-article").value.trim();
      state.filters.language = $("filter-language").value;
      loadQueue();
    });
    for (const [id, name] of [
      ["filter-family", "family"],
      ["filter-rank", "rank"],
    ]) {
      $(id).addEventListener("change", (event) => {
        state.filters[name] = event.target.value;
        loadQueue();
      });
    }
    $("approve-likely-fine").addEventListener("click", () => approveLikelyFine());
    $("detail-back").addEventListener("click", () => history.back());
    window.addEventListener("popstate", () => closeDetailView());
    $("refresh").addEventListener("click", () => {
      loadQueue();
      loadStats();
    });
    $("load-more").addEventListener("click", () => loadQueue({ append: true }));
    $("report-tab").addEventListener("click", openReport);
    $("policy-tab").addEventListener("click", openPolicy);
    $("policy-form").addEventListener("submit", (event) => {
      event.preventDefault();
      tryPolicy();
    });
    $("policy-promote").addEventListener("click", () => promotePolicy());
    $("report-range").addEventListener("change", onRangeChange);
    $("report-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadReport();
    });
    $("report-csv").addEventListener("click", () => downloadReport("csv"));
    $("report-json").addEventListener("click", () => downloadReport("json"));
    $("bulk-approve").addEventListener("click", () => decideMany("approve"));
    $("bulk-reject").addEventListener("click", () => decideMany("reject"));
    $("bulk-takedown").addEventListener("click", () => decideMany("takedown"));
    $("bulk-clear").addEventListener("click", clearChecked);
    $("help-button").addEventListener("click", toggleHelp);
    $("help-close").addEventListener("click", () => $("help-dialog").close());
    $("status").addEventListener("click", () => $("status").replaceChildren());
    document.addEventListener("keydown", onKeyDown);
  }

  function start() {
    state.lang = pickLanguage();
    applyLanguage();
    wire();
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) signIn(token, { quiet: true });
    else showSignIn();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
