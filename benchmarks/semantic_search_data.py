"""Chapter 20's search task, fixed before the first evaluation: the speeches of eight plays and 32 paraphrased
queries, each labelled with the one speech it asks for (found by a phrase the speech contains).

A query shares **no content word** with its target speech: ``shared_content_words`` compares the two after
lowercasing, dropping a list of function words and cutting a few English endings (so "murdered" counts as
"murder"); ``benchmarks/bench_semantic_search.py`` refuses to run if any query breaks the rule.
"""

import re

from nncourse.data.shakespeare import read_play

PLAYS = (
    "hamlet",
    "macbeth",
    "romeo-and-juliet",
    "julius-caesar",
    "as-you-like-it",
    "the-merchant-of-venice",
    "the-tempest",
    "king-lear",
)
MIN_WORDS = 40

# (query, play, a phrase of the target speech): written, and labelled, before any search was run
QUERIES = [
    (
        "is it wiser to put up with misery or to finish oneself, given our terror of the unknown afterward?",
        "hamlet",
        "To be, or not to be",
    ),
    (
        "a prince holds a cranium dug from a grave and recalls the royal fool who amused him in childhood",
        "hamlet",
        "Alas, poor Yorick",
    ),
    (
        "a parent's parting guidance to a traveller: guard speech, avoid debts, be honest with oneself",
        "hamlet",
        "Neither a borrower nor a lender be",
    ),
    (
        "a phantom reveals that his sibling killed him with venom during a nap outdoors",
        "hamlet",
        "sleeping within my orchard",
    ),
    (
        "a young royal wishes he could dissolve, disgusted by the hasty remarriage of the queen",
        "hamlet",
        "too too solid flesh",
    ),
    (
        "humanity is splendid and angelic, still people give this melancholy prince no pleasure",
        "hamlet",
        "What a piece of work is a man",
    ),
    (
        "a hallucinated knife hovers ahead of a murderer approaching the bedchamber",
        "macbeth",
        "Is this a dagger which I see before me",
    ),
    (
        "after his queen dies, the tyrant says living is pointless, just an actor strutting",
        "macbeth",
        "To-morrow, and to-morrow",
    ),
    ("a noblewoman walking in slumber tries to scrub stains from her fingers", "macbeth", "Out, damned spot"),
    (
        "a killer imagines someone shouting that he has murdered slumber and can never rest",
        "macbeth",
        "Macbeth does murder sleep",
    ),
    ("a scheming wife calls on evil ghosts to remove her feminine kindness", "macbeth", "unsex me here"),
    (
        "he hesitates over assassinating a visiting ruler who is his guest and relative",
        "macbeth",
        "If it were done when 'tis done",
    ),
    (
        "a lovesick youth below an upstairs opening compares his sweetheart to celestial bodies",
        "romeo-and-juliet",
        "But, soft! what light through yonder window breaks",
    ),
    (
        "a girl wishes her sweetheart would disown his surname, since labels change nothing about a flower's scent",
        "romeo-and-juliet",
        "What's in a name",
    ),
    ("a tiny sprite travels over slumbering people, causing visions", "romeo-and-juliet", "Queen Mab"),
    ("a mortally stabbed friend curses both quarrelling clans", "romeo-and-juliet", "A plague o' both your houses"),
    (
        "the prologue tells of an old feud between noble families and ill-fated teenagers",
        "romeo-and-juliet",
        "Two households, both alike in dignity",
    ),
    (
        "a clever eulogy that keeps calling the assassins decent until the mob turns on them",
        "julius-caesar",
        "Friends, Romans, countrymen",
    ),
    (
        "blame for being subordinates lies within us, not the heavens; why should that dictator tower over us?",
        "julius-caesar",
        "The fault, dear Brutus",
    ),
    (
        "the courageous perish only once, while the fearful perish repeatedly",
        "julius-caesar",
        "Cowards die many times before their deaths",
    ),
    (
        "seize the right moment, like sailors catching high water, or stay stuck",
        "julius-caesar",
        "There is a tide in the affairs of men",
    ),
    (
        "the victorious commander honours his dead opponent as the best plotter, acting from pure motives",
        "julius-caesar",
        "This was the noblest Roman of them all",
    ),
    (
        "humans are actors on a platform, passing through phases from baby to schoolboy to dotage",
        "as-you-like-it",
        "All the world's a stage",
    ),
    (
        "banished lord claims hardship teaches, and woodland living beats palace flatterers",
        "as-you-like-it",
        "Sweet are the uses of adversity",
    ),
    (
        "clemency, like soft showers, benefits everyone involved; an appeal to a moneylender",
        "the-merchant-of-venice",
        "The quality of mercy is not strain'd",
    ),
    (
        "a persecuted moneylender asks if his people are not human too, and vows retaliation",
        "the-merchant-of-venice",
        "Hath not a Jew eyes",
    ),
    (
        "the wizard announces the entertainment is finished; the earth will vanish as a fantasy",
        "the-tempest",
        "Our revels now are ended",
    ),
    ("a sorcerer lists his wonders and promises to give up enchantment", "the-tempest", "this rough magic"),
    ("an aged ruler rages at the tempest and hurricanes", "king-lear", "Blow, winds, and crack your cheeks"),
    (
        "a son born out of wedlock resents being scorned and schemes against his sibling",
        "king-lear",
        "Why bastard? wherefore base?",
    ),
    (
        "the youngest princess refuses to flatter: a future spouse will get part of her affection too",
        "king-lear",
        "You have begot me, bred me",
    ),
    (
        "a savage servant complains that the wizard stole his home after initially being kind",
        "the-tempest",
        "This island's mine",
    ),
]

STOP_WORDS = set(
    """a about after again against all also am an and any are as at be because been before being but
by can could did do does doing for from had has have having he her here hers him his how i if in into is it its
itself just me more most my no nor not now of off on once only or other our ours out over own same she should so
some such than that the their theirs them then there these they this those through to too under until up very was
we were what when where which while who whom why will with would you your yours one every both each many much
thou thee thy thine hath doth art shall may might must let""".split()
)


def stem(word):
    for ending in ("ing", "ed", "es", "s", "ly", "er"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def content_words(text):
    return {stem(w) for w in re.findall(r"[a-z]+", text.lower().replace("'", "")) if w not in STOP_WORDS}


def shared_content_words(query, speech):
    return sorted(content_words(query) & content_words(speech))


def load_speeches():
    """[(play, speaker, text)] for every speech of at least MIN_WORDS words, in play order."""
    speeches = []
    for play in PLAYS:
        for block in read_play(play).split("\n\n"):
            speaker, _, text = block.strip().partition("\n")
            text = " ".join(text.split())
            if len(text.split()) >= MIN_WORDS:
                speeches.append((play, speaker.rstrip(":").strip(), text))
    return speeches


def target_index(speeches, play, phrase):
    """The one speech of ``play`` that contains ``phrase`` (an error if none or several do)."""

    def norm(s):
        return re.sub(r"[^a-z]+", " ", s.lower()).strip()

    hits = [i for i, (p, _, text) in enumerate(speeches) if p == play and norm(phrase) in norm(text)]
    if len(hits) != 1:
        raise ValueError(f"{play}: phrase {phrase!r} is in {len(hits)} speeches, expected exactly one")
    return hits[0]
