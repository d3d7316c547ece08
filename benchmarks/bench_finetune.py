"""Chapter 18: three ways to adapt SmolLM2-135M-Instruct to one task, measured on plays held out from
fine-tuning. Writes chapters/results/18_finetune.json.

    python benchmarks/bench_finetune.py                 # about 20 minutes on one shared thread
    python benchmarks/bench_finetune.py --quick         # a smoke run (2 passages per play, 2 steps)
    python benchmarks/bench_finetune.py --check         # about 4 minutes: what the chapter checks and reuses
    python benchmarks/bench_finetune.py --json          # about 3 minutes: the instruction task, zero-shot
    python benchmarks/bench_finetune.py --json-train    # about 10 minutes: the instruction task after LoRA
    python benchmarks/bench_finetune.py --few-shot      # a few minutes: prompting with solved examples

``--check`` adds to the stored results, without retraining the three seeds: the frozen model's label scores
and pooled features of every passage (chapters/results/18_finetune_check.npz: the chapter trains its probe
on them and recomputes a few), seed 0's LoRA run again with the loss of every step (the chapter reruns the
first steps), and what that run costs outside its task (``forgetting``: greedy answers to fixed chat
prompts, the KL divergence between the two models' next-token distributions, perplexity on plain prose).

The task: the First Folio genre (comedy, history, tragedy) of a passage of about 32 words with the speaker
names removed (``nncourse.data.genre``), split by play (21 / 6 / 9 plays, 3 test plays per genre).

1. **Prompting, zero-shot**: the prompt ends in "...? Answer: It is a"; the label whose token (" comedy",
   " history", " tragedy": one token each) the model finds most likely wins.
2. **Linear probe**: the frozen model's final hidden state (after the last RMSNorm), mean-pooled over the
   passage's tokens (in the zero-shot prompt's forward pass), standardised, then a logistic regression
   (``numpy_nn.Linear`` + cross-entropy, Adam,
   trained with the course's ``fit``), 3 seeds.
3. **LoRA**, rank 8 on q_proj and v_proj (alpha 16), torch float32, AdamW lr 1e-3, batch 4; the loss is the
   cross-entropy of the label token only (the response), 3 seeds; validation accuracy every few steps.

``--json-train`` trains LoRA (as 3., one seed) on the instruction task's pairs from the training plays, the
loss masked to the response (the JSON and the end-of-turn token), and scores it like ``--json``.

Accuracy intervals are percentile intervals of a bootstrap over *plays* (passages of one play are not
independent), 2000 resamples. Timings are one thread on this CPU, torch float32; full fine-tuning is
timed for a few steps only, never trained.
"""

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nncourse.data.genre import GENRES, load_genre_task, speaker_json_examples  # noqa: E402
from nncourse.finetune import apply_lora, count_parameters, masked_token_nll  # noqa: E402
from nncourse.pretrained import load_smollm2  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "chapters" / "results" / "18_finetune.json"
PROMPT = ("Here is a passage from a play by Shakespeare.\n\n{passage}\n\n"
          "Is the play a comedy, a history or a tragedy? Answer: It is a")
MAX_PASSAGE_TOKENS = 48


def encode(tok, passage):
    """Token ids of the prompt and the [start, end) of the passage inside it (the passage is cut to
    MAX_PASSAGE_TOKENS tokens)."""
    head, tail = PROMPT.split("{passage}")
    a = tok.encode(head, special=False)
    p = tok.encode(passage, special=False)[:MAX_PASSAGE_TOKENS]
    b = tok.encode(tail, special=False)
    return a + p + b, (len(a), len(a) + len(p))


def run_batches(model, items, tok, batch_size=8):
    """Forward passes (no gradient): the label scores at the answer position and the pooled features."""
    captured = {}
    hook = model.norm.register_forward_hook(lambda m, i, o: captured.__setitem__("h", o))
    scores, feats = [], []
    label_ids = [tok.encode(" " + g, special=False)[0] for g in GENRES]
    try:
        with torch.no_grad():
            for s in range(0, len(items), batch_size):
                enc = [encode(tok, text) for text, _, _ in items[s:s + batch_size]]
                T = max(len(ids) for ids, _ in enc)
                x = torch.zeros(len(enc), T, dtype=torch.long)        # right padding: causal, so harmless
                for i, (ids, _) in enumerate(enc):
                    x[i, :len(ids)] = torch.tensor(ids)
                logits = model(x)
                for i, (ids, (a, b)) in enumerate(enc):
                    log_p = torch.log_softmax(logits[i, len(ids) - 1], -1)
                    scores.append(log_p[label_ids].numpy().astype(float))
                    feats.append(captured["h"][i, a:b].mean(0).numpy().astype(np.float64))
    finally:
        hook.remove()
    return np.array(scores), np.array(feats)


def play_bootstrap(correct, plays, seed=0, n=2000):
    """95% percentile interval of the accuracy, resampling plays (with all their passages) with replacement."""
    names = sorted(set(plays))
    per_play = [np.asarray([c for c, p in zip(correct, plays) if p == name], float) for name in names]
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n):
        pick = rng.integers(0, len(names), len(names))
        stats.append(np.concatenate([per_play[i] for i in pick]).mean())
    return [round(float(np.percentile(stats, 2.5)), 3), round(float(np.percentile(stats, 97.5)), 3)]


def summary(correct, plays):
    correct = np.asarray(correct, float)
    return {"accuracy": round(float(correct.mean()), 3), "interval_95_by_play": play_bootstrap(correct, plays)}


def probe(train_x, train_y, test_x, seed, epochs=200):
    from nncourse.numpy_nn import Adam, CrossEntropyLoss, Linear
    from nncourse.train import fit

    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    model = Linear(train_x.shape[1], len(GENRES), seed=seed, dtype=np.float64)
    fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=1e-2, weight_decay=0.0),
        ((train_x - mean) / std, train_y), epochs=epochs, batch_size=64, seed=seed, quiet=True)
    return model((test_x - mean) / std).argmax(1)


def lora_batch(tok, items):
    enc = [encode(tok, text)[0] for text, _, _ in items]
    T = max(len(e) for e in enc)
    x = torch.zeros(len(enc), T, dtype=torch.long)
    last = torch.tensor([len(e) - 1 for e in enc])
    for i, e in enumerate(enc):
        x[i, :len(e)] = torch.tensor(e)
    return x, last


def next_batch(items, order, step, batch_size=4):
    """The items of step ``step`` (1, 2, ...): the next ``batch_size`` of the seeded order, wrapping round."""
    pick = [items[i] for i in order[((step - 1) * batch_size) % len(order):][:batch_size]]
    if len(pick) < batch_size:
        pick += [items[i] for i in order[:batch_size - len(pick)]]
    return pick


def train_batch(task, order, step, batch_size=4):
    """The training passages of step ``step`` (1, 2, ...): the next ``batch_size`` of the seeded order."""
    return next_batch(task.train, order, step, batch_size)


def lora_step(model, opt, tok, pick, label_ids):
    """One AdamW step on the label token's cross-entropy (the response); returns the loss before the step."""
    x, last = lora_batch(tok, pick)
    y = torch.tensor([label_ids[lbl] for _, lbl, _ in pick])
    logits = model(x)[torch.arange(len(pick)), last]       # only the answer position: the response
    loss = torch.nn.functional.cross_entropy(logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())


def lora_setup(model, tok, seed, n_train):
    """Rank 8 on q_proj and v_proj (adapter i from seed + i), AdamW lr 1e-3, the seeded passage order."""
    apply_lora(model, r=8, alpha=16, targets=("q_proj", "v_proj"), seed=seed, verbose=False)
    label_ids = torch.tensor([tok.encode(" " + g, special=False)[0] for g in GENRES])
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.0)
    order = np.random.default_rng(seed).permutation(n_train)
    return label_ids, opt, order


def lora_run(tok, task, seed, steps, eval_every, val_items, batch_size=4, model=None, step_losses=None):
    """``model``: train this (already loaded) model instead of loading a fresh one; ``step_losses``: a list
    that receives every step's loss."""
    if model is None:
        model, _ = load_smollm2(backend="torch", dtype=np.float32, context_length=128)
    label_ids, opt, order = lora_setup(model, tok, seed, len(task.train))
    curve, step_times = [], []

    def val_accuracy():
        model.eval()
        scores, _ = run_batches(model, val_items, tok)
        model.train()
        return round(float((scores.argmax(1) == np.array([y for _, y, _ in val_items])).mean()), 3)

    curve.append({"step": 0, "val_accuracy": val_accuracy()})
    for step in range(1, steps + 1):
        pick = train_batch(task, order, step, batch_size)
        start = time.perf_counter()
        loss = lora_step(model, opt, tok, pick, label_ids)
        step_times.append(time.perf_counter() - start)
        if step_losses is not None:
            step_losses.append(round(loss, 4))
        if step % eval_every == 0 or step == steps:
            curve.append({"step": step, "train_loss": round(loss, 3), "val_accuracy": val_accuracy()})
    model.eval()
    scores, _ = run_batches(model, task.test, tok)
    return scores, curve, step_times, count_parameters(model)


def full_steps(tok, task, n=3, batch_size=4):
    """Seconds per step of full fine-tuning (every parameter trains), a few steps only."""
    model, _ = load_smollm2(backend="torch", dtype=np.float32, context_length=128)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    x, last = lora_batch(tok, task.train[:batch_size])
    times = []
    for _ in range(n):
        start = time.perf_counter()
        logits = model(x)[torch.arange(batch_size), last]
        loss = torch.nn.functional.cross_entropy(logits, torch.zeros(batch_size, dtype=torch.long))
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return times, count_parameters(model)


CHECK_OUT = OUT.with_name("18_finetune_check.npz")
CHECK_STEPS = 3          # the steps of seed 0 the chapter reruns
#: chat prompts far from the training task (plays' genres), fixed before any run
CHAT_PROMPTS = ["What is the capital of France?", "Give me two tips for sleeping well.",
                "Write a Python function that returns the square of a number.", "What is 12 times 7?",
                "Translate 'good morning' into Spanish."]
#: plain modern prose, written for this benchmark (no play, no Shakespeare): perplexity outside the task
PLAIN_TEXT = ("The library opens at nine in the morning and closes at six in the evening. Visitors can borrow "
              "up to five books at a time for three weeks. If a book is late, a small fee is charged for each "
              "day, and the money is used to buy new books for the children's room.")
ANSWER_TOKENS = 32


def load_tasks(quick=False):
    """The stored split: 6 passages per play for training and validation, 8 per test play."""
    per_test, per_train = (2, 2) if quick else (8, 6)
    test_task = load_genre_task(seed=0, per_play=per_test, words=32)
    task = load_genre_task(seed=0, per_play=per_train, words=32)
    return type(task)(task.train, task.val, test_task.test, task.train_plays, task.val_plays, task.test_plays,
                      task.seed)


def curve_items(task):
    """The 12 validation passages of the learning curves: the first 2 of each validation play."""
    return [item for play in task.val_plays for item in [i for i in task.val if i[2] == play][:2]]


def greedy_answer(model, tok, prompt, max_new_tokens=ANSWER_TOKENS):
    """``(prompt ids, answer ids)``: the greedy answer to one user message, stop token dropped."""
    ids = tok.encode_chat([{"role": "user", "content": prompt}])
    out = model.generate(torch.tensor([ids]), max_new_tokens, top_k=1, stop_token=tok.stop_ids)[0, len(ids):]
    out = out.tolist()
    return ids, out[:-1] if out and out[-1] in tok.stop_ids else out


@torch.no_grad()
def next_token_log_probs(model, ids):
    """(T, V) float64 log-probabilities of the next token at every position of ``ids``."""
    return torch.log_softmax(model(torch.tensor([ids]))[0].double(), -1).numpy()


def perplexity(model, tok, text):
    """``exp`` of the mean next-token NLL over the text's tokens, the first token unscored (nothing predicts
    it); the window is the whole text. Returns ``(perplexity, scored tokens)``."""
    ids = tok.encode(text, special=False)
    log_p = next_token_log_probs(model, ids)[:-1]
    nll = -log_p[np.arange(len(ids) - 1), ids[1:]]
    return float(np.exp(nll.mean())), len(ids) - 1


def kl_on_answers(before, after, sequences):
    """Mean KL(p_before || p_after) of the next-token distributions, over the positions that predict the
    base model's answer tokens (each sequence is ``(prompt ids, answer ids)``)."""
    total, n = 0.0, 0
    for ids, answer in sequences:
        full = ids + answer
        positions = slice(len(ids) - 1, len(full) - 1)
        p, q = before[tuple(full)][positions], next_token_log_probs(after, full)[positions]
        total += float((np.exp(p) * (p - q)).sum())
        n += len(answer)
    return total / n


def check(tok, task, model, results):
    """``--check``: features and scores, seed 0's run again (every step's loss), and forgetting."""
    start = time.perf_counter()
    test_scores, test_feats = run_batches(model, task.test, tok)
    _, train_feats = run_batches(model, task.train, tok)
    np.savez_compressed(CHECK_OUT, test_scores=test_scores.astype(np.float32),
                        test_features=test_feats.astype(np.float32), train_features=train_feats.astype(np.float32))
    print(f"features and scores of {len(task.test) + len(task.train)} passages in "
          f"{time.perf_counter() - start:.0f} s -> {CHECK_OUT.name}", flush=True)
    answers_before = [greedy_answer(model, tok, p) for p in CHAT_PROMPTS]
    before = {tuple(ids + a): next_token_log_probs(model, ids + a) for ids, a in answers_before}
    ppl_before, scored = perplexity(model, tok, PLAIN_TEXT)
    losses = []
    scores, curve, step_times, _ = lora_run(tok, task, 0, results["lora"]["steps"], 8, curve_items(task),
                                            model=model, step_losses=losses)
    test_y = np.array([y for _, y, _ in task.test])
    accuracy = round(float((scores.argmax(1) == test_y).mean()), 3)
    results["check"] = {"seed": 0, "step_losses": losses, "curve": curve, "accuracy": accuracy,
                        "check_steps": CHECK_STEPS, "test_scores_file": CHECK_OUT.name,
                        "seconds_per_step": round(float(np.median(step_times)), 2)}
    model.eval()
    answers_after = [greedy_answer(model, tok, p) for p in CHAT_PROMPTS]
    ppl_after, _ = perplexity(model, tok, PLAIN_TEXT)
    results["forgetting"] = {
        "seed": 0, "steps": results["lora"]["steps"], "answer_tokens": ANSWER_TOKENS,
        "answers": [{"prompt": p, "before": tok.decode(b), "after": tok.decode(a), "same": b == a}
                    for p, (_, b), (_, a) in zip(CHAT_PROMPTS, answers_before, answers_after)],
        "kl_on_answers": round(kl_on_answers(before, model, answers_before), 5),
        "plain_text": PLAIN_TEXT, "plain_text_scored_tokens": scored,
        "perplexity_before": round(ppl_before, 3), "perplexity_after": round(ppl_after, 3)}
    print("check", results["check"], "\nforgetting", results["forgetting"], flush=True)


JSON_PER_PLAY = 12       # 9 test plays x 12 speeches = 108 items
JSON_TOKENS = 24


def json_zero_shot(tok, task, model, per_play=JSON_PER_PLAY):
    """``--json``: the instruction task (``speaker_json_examples`` on the test plays), answered zero-shot
    with the chat template and greedy decoding; exact match of the answer with the expected JSON, and how
    many answers are at least valid JSON with the right speaker. ``--json-train`` scores its trained model
    with it, on the same items. Greedy decoding stops at the end-of-turn token (``greedy_answer``)."""
    examples = speaker_json_examples(list(task.test_plays), per_play=per_play, seed=0)
    exact = valid = right_speaker = 0
    shown = []
    start = time.perf_counter()
    for prompt, response in examples:
        _, answer_ids = greedy_answer(model, tok, prompt, JSON_TOKENS)
        answer = tok.decode(answer_ids).strip()
        exact += answer == response.strip()
        try:
            parsed = json.loads(answer)
        except ValueError:
            parsed = None
        valid += isinstance(parsed, dict)
        right_speaker += isinstance(parsed, dict) and parsed.get("speaker") == json.loads(response)["speaker"]
        if len(shown) < 3:
            shown.append({"prompt": prompt, "expected": response.strip(), "answer": answer})
    return {"items": len(examples), "per_play": per_play, "max_new_tokens": JSON_TOKENS,
            "exact_match": exact, "valid_json": valid, "right_speaker": right_speaker, "examples": shown,
            "seconds": round(time.perf_counter() - start, 1)}


JSON_TRAIN_PER_PLAY = 12     # 21 training plays x 12 speeches = 252 pairs
JSON_TRAIN_STEPS = 90        # 3.8 s per step of 4 pairs measured on one thread: under 6 minutes
JSON_LOSS_EVERY = 5


def json_pair(tok, prompt, response):
    """``(ids, start)`` of one training pair in the chat template: the user turn, then the assistant's
    response up to and including its end-of-turn token ``<|im_end|>`` (the template's newline after it is
    dropped); ``start`` is where the response begins, so ``ids[start:]`` is what the loss scores."""
    user = tok.encode_chat([{"role": "user", "content": prompt}])
    full = tok.encode_chat([{"role": "user", "content": prompt}, {"role": "assistant", "content": response}],
                           add_generation_prompt=False)
    if full[:len(user)] != user:
        raise RuntimeError("the chat template renders the user turn differently with a response after it")
    end = full.index(tok.stop_ids[0], len(user)) + 1
    return full[:end], len(user)


def json_batch(tok, pairs):
    """``(x, targets)`` (N, T) for next-token training on ``pairs`` of (prompt, response): ``targets`` holds
    the next token where it belongs to the response (the JSON and the end-of-turn token) and -100 (ignored)
    elsewhere: on the prompt and on the right padding."""
    enc = [json_pair(tok, prompt, response) for prompt, response in pairs]
    T = max(len(ids) for ids, _ in enc) - 1
    x = torch.zeros(len(enc), T, dtype=torch.long)
    targets = torch.full((len(enc), T), -100, dtype=torch.long)
    for i, (ids, start) in enumerate(enc):
        ids = torch.tensor(ids)
        x[i, :len(ids) - 1] = ids[:-1]
        targets[i, start - 1:len(ids) - 1] = ids[start:]      # position t predicts token t + 1
    return x, targets


def json_lora(tok, task, model, steps, seed=0, batch_size=4, per_play_test=JSON_PER_PLAY):
    """``--json-train``: LoRA (``lora_setup``: rank 8 on q_proj and v_proj, AdamW lr 1e-3) trained on
    ``speaker_json_examples`` of the training plays with the loss masked to the response tokens, then
    scored by ``json_zero_shot`` on the test plays' items."""
    pairs = speaker_json_examples(list(task.train_plays), per_play=JSON_TRAIN_PER_PLAY, seed=seed)
    _, opt, order = lora_setup(model, tok, seed, len(pairs))
    model.train()
    losses, step_times = [], []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        x, targets = json_batch(tok, next_batch(pairs, order, step, batch_size))
        t0 = time.perf_counter()
        logits = model(x)
        # the mean over the response tokens of the whole batch, as masked_token_nll defines it
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)
        if step == 1:
            mask = (targets != -100).numpy()
            reference, _ = masked_token_nll(logits.detach().numpy(), np.where(mask, targets.numpy(), 0), mask)
            if abs(reference - loss.item()) > 1e-4 * max(1.0, reference):
                raise RuntimeError(f"torch's masked loss {loss.item()} differs from masked_token_nll {reference}")
        opt.zero_grad()
        loss.backward()
        opt.step()
        step_times.append(time.perf_counter() - t0)
        if step == 1 or step % JSON_LOSS_EVERY == 0 or step == steps:
            losses.append({"step": step, "loss": round(float(loss.detach()), 4)})
            print(f"step {step}: loss {losses[-1]['loss']} ({step_times[-1]:.1f} s)", flush=True)
    seconds = time.perf_counter() - start
    model.eval()
    trainable, total = count_parameters(model)
    return {"seeds": [seed], "note": "one seed, one run", "train_plays": len(task.train_plays),
            "train_per_play": JSON_TRAIN_PER_PLAY, "train_pairs": len(pairs),
            "response_tokens": "the JSON and the end-of-turn token <|im_end|>", "r": 8, "alpha": 16,
            "targets": ["q_proj", "v_proj"], "trainable": trainable, "total": total, "steps": steps,
            "batch": batch_size, "lr": opt.param_groups[0]["lr"], "epochs": round(steps * batch_size / len(pairs), 2),
            "seconds": round(seconds, 1), "seconds_per_step": round(float(np.median(step_times)), 2),
            "losses": losses, "scores": json_zero_shot(tok, task, model, per_play_test)}


FEW_SHOT_SEEDS = (0, 1, 2)


def few_shot_prefix(tok, task, seed):
    """Token ids of the demonstrations: one training passage per genre (drawn with ``seed``, in a shuffled
    order), each as the zero-shot prompt followed by its answer, e.g. " comedy.", and a blank line."""
    rng = np.random.default_rng(seed)
    demos = []
    for label in range(len(GENRES)):
        pool = [item for item in task.train if item[1] == label]
        demos.append(pool[rng.integers(len(pool))])
    demos = [demos[i] for i in rng.permutation(len(demos))]
    ids = []
    for text, label, _ in demos:
        prompt, _ = encode(tok, text)
        ids += prompt + tok.encode(f" {GENRES[label]}.\n\n", special=False)
    return ids, [(play, GENRES[label]) for _, label, play in demos]


def few_shot(tok, task, model, seeds=FEW_SHOT_SEEDS):
    """``--few-shot``: the zero-shot prompt after one solved example per genre from the training plays, scored
    by the label likelihood as zero-shot is. The demonstrations are run once per seed into a KV cache; each
    test prompt continues from it (the cache's length is reset after each), so a test passage costs what it
    costs zero-shot. The first passage is checked against a forward pass of the whole text."""
    label_ids = [tok.encode(" " + g, special=False)[0] for g in GENRES]
    test_y = np.array([y for _, y, _ in task.test])
    test_plays = [p for _, _, p in task.test]
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        prefix, demos = few_shot_prefix(tok, task, seed)
        scores = []
        with torch.no_grad():
            cache = model.new_cache(1)
            model(torch.tensor([prefix]), cache)
            for n, (text, _, _) in enumerate(task.test):
                ids, _ = encode(tok, text)
                cache.lengths = [len(prefix)] * len(cache.lengths)    # keep the demonstrations, drop the rest
                log_p = torch.log_softmax(model(torch.tensor([ids]), cache)[0, -1], -1)[label_ids]
                if n == 0:
                    whole = torch.log_softmax(model(torch.tensor([prefix + ids]))[0, -1], -1)[label_ids]
                    gap = float((whole - log_p).abs().max())
                    if gap > 1e-3:
                        raise SystemExit(f"few-shot: the cached scores differ from a full pass by {gap:.2e}")
                scores.append(log_p.numpy().astype(float))
        pred = np.array(scores).argmax(1)
        runs.append({"seed": seed, "demonstrations": [{"play": p, "genre": g} for p, g in demos],
                     "prompt_tokens": len(prefix), **summary(pred == test_y, test_plays),
                     "predicted_counts": {g: int((pred == i).sum()) for i, g in enumerate(GENRES)},
                     "seconds": round(time.perf_counter() - start, 1)})
        print("few-shot", runs[-1], flush=True)
    return {"per_genre": 1, "runs": runs}


def update_stored(key, value):
    """Add (or replace) one entry of the stored results, keeping every other entry as it is."""
    results = json.loads(OUT.read_text(encoding="utf-8"))
    results[key] = value
    write_stored(results)


def write_stored(results):
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print("wrote", OUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny sizes, nothing stored")
    parser.add_argument("--check", action="store_true",
                        help="add the chapter's check data and the forgetting measurements to the stored results")
    parser.add_argument("--json", action="store_true",
                        help="add the instruction task (speaker and line count as JSON) scored zero-shot")
    parser.add_argument("--few-shot", action="store_true",
                        help="add few-shot prompting (one solved training passage per genre, 3 draws)")
    parser.add_argument("--json-train", action="store_true",
                        help="add the instruction task after LoRA training on the training plays' pairs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    steps, eval_every, seeds = (2, 1, [0]) if args.quick else (24, 8, [0, 1, 2])
    task = load_tasks(args.quick)
    # the instruction prompts (a speech of up to 4 lines in the chat template) need more room
    model, tok = load_smollm2(backend="torch", dtype=np.float32,
                              context_length=256 if args.json or args.json_train else
                              512 if args.few_shot else 128)
    if args.few_shot:       # --quick: one draw on the quick split, nothing stored
        result = few_shot(tok, task, model, seeds=(0,) if args.quick else FEW_SHOT_SEEDS)
        if not args.quick:
            update_stored("few_shot", result)
        return
    if args.json_train:     # --quick: 2 steps, 1 test item per play, nothing stored
        result = json_lora(tok, task, model, 2 if args.quick else JSON_TRAIN_STEPS,
                           per_play_test=1 if args.quick else JSON_PER_PLAY)
        print(json.dumps(result, indent=1))
        if not args.quick:
            update_stored("json_lora", result)
        return
    if args.json:
        result = json_zero_shot(tok, task, model)
        print(json.dumps(result, indent=1))
        update_stored("json_task", result)
        return
    if args.check:
        results = json.loads(OUT.read_text(encoding="utf-8"))
        check(tok, task, model, results)
        results["peak_rss_gib_check"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
        write_stored(results)
        return
    results = {"machine": platform.processor() or platform.machine(), "threads": 1,
               "torch": torch.__version__, "task": {
                   "split_seed": 0, "words": 32, "max_passage_tokens": MAX_PASSAGE_TOKENS, "prompt": PROMPT,
                   "sizes": {"train": len(task.train), "val": len(task.val), "test": len(task.test)},
                   "plays": {"train": list(task.train_plays), "val": list(task.val_plays),
                             "test": list(task.test_plays)}}}
    test_y = np.array([y for _, y, _ in task.test])
    test_plays = [p for _, _, p in task.test]
    train_y = np.array([y for _, y, _ in task.train])
    majority = int(np.bincount(train_y).argmax())
    results["majority"] = {"label": GENRES[majority], **summary(test_y == majority, test_plays)}

    start = time.perf_counter()
    test_scores, test_feats = run_batches(model, task.test, tok)
    t_test = time.perf_counter() - start
    zero = test_scores.argmax(1)
    results["zero_shot"] = {**summary(zero == test_y, test_plays),
                            "predicted_counts": {g: int((zero == i).sum()) for i, g in enumerate(GENRES)},
                            "seconds_per_passage": round(t_test / len(task.test), 3)}
    print("zero-shot", results["zero_shot"], flush=True)

    start = time.perf_counter()
    _, train_feats = run_batches(model, task.train, tok)
    t_feats = time.perf_counter() - start
    del model
    probe_runs = []
    for seed in seeds:
        start = time.perf_counter()
        pred = probe(train_feats, train_y, test_feats, seed)
        probe_runs.append({"seed": seed, **summary(pred == test_y, test_plays),
                           "train_seconds": round(time.perf_counter() - start, 2)})
    results["probe"] = {"runs": probe_runs, "feature_seconds_train": round(t_feats, 1)}
    print("probe", probe_runs, flush=True)

    val_items = curve_items(task)
    results["task"]["sizes"]["val_used_for_curves"] = len(val_items)
    lora_runs = []
    for seed in seeds:
        start = time.perf_counter()
        scores, curve, step_times, (trainable, total) = lora_run(tok, task, seed, steps, eval_every, val_items)
        pred = scores.argmax(1)
        lora_runs.append({"seed": seed, **summary(pred == test_y, test_plays), "curve": curve,
                          "seconds_per_step": round(float(np.median(step_times)), 2),
                          "run_seconds": round(time.perf_counter() - start, 1)})
        print("lora", lora_runs[-1], flush=True)
    results["lora"] = {"r": 8, "alpha": 16, "targets": ["q_proj", "v_proj"], "lr": 1e-3, "batch_size": 4,
                       "steps": steps, "trainable": trainable, "total": total, "runs": lora_runs}
    times, (f_trainable, f_total) = full_steps(tok, task)
    results["full_finetune"] = {"steps_timed": len(times), "seconds_per_step": round(float(np.median(times)), 2),
                                "trainable": f_trainable}
    results["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    print(json.dumps(results["full_finetune"]), results["peak_rss_gib"])
    if not args.quick:
        write_stored(results)


if __name__ == "__main__":
    main()
