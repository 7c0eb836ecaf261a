"""Writes training checkpoint folders with real Paddle, for tests/inspect/test_inspect_folders.py.

Run as ``python write_folders.py OUT [PADDLEOCR_DIR]``. With PADDLEOCR_DIR (an unpacked
``paddleocr`` wheel, installed --no-deps), PaddleOCR's own ``ppocr.utils.save_load.save_model``
writes the PaddleOCR folder; its network-only imports (requests, tqdm, used to download weights)
are stand-ins, its save code is the real one. The PaddleNLP Trainer and PaddleSeg folders are
faithful reproductions: real ``paddle.save`` of real model/optimizer/scheduler state, with the
names and files of PaddleNLP's ``trainer/trainer.py`` ``_save_checkpoint`` / ``utils/env.py``
(model_state.pdparams, its ``.index.json`` with a ``weight_map`` for shards, optimizer.pdopt,
scheduler.pdparams, rng_state.pth, trainer_state.json) and of PaddleSeg's ``core/train.py``
(iter_N/model.pdparams + model.pdopt). The installed PaddleNLP needs too many packages to import
here."""

import json
import os
import random
import sys
import time
import types

import numpy as np
import paddle

OUT = sys.argv[1]
OCR = sys.argv[2] if len(sys.argv) > 2 else ""


def trained():
    paddle.seed(1)
    model = paddle.nn.Sequential(paddle.nn.Linear(4, 8), paddle.nn.ReLU(), paddle.nn.Linear(8, 2))
    sched = paddle.optimizer.lr.StepDecay(0.01, step_size=1)
    opt = paddle.optimizer.AdamW(learning_rate=sched, parameters=model.parameters())
    for _ in range(2):
        model(paddle.randn([3, 4])).mean().backward()
        opt.step()
        opt.clear_grad()
        sched.step()
    return model, opt, sched


def trainer_checkpoint(root, step, sharded=False):
    model, opt, sched = trained()
    d = os.path.join(root, f"checkpoint-{step}")
    os.makedirs(d)
    state = model.state_dict()
    if sharded:
        keys = list(state)
        half = len(keys) // 2
        shards = {"model_state-00001-of-00002.pdparams": keys[:half],
                  "model_state-00002-of-00002.pdparams": keys[half:]}
        weight_map = {}
        for name, ks in shards.items():
            paddle.save({k: state[k] for k in ks}, os.path.join(d, name))
            weight_map.update({k: name for k in ks})
        with open(os.path.join(d, "model_state.pdparams.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f)
    else:
        paddle.save(state, os.path.join(d, "model_state.pdparams"))
    paddle.save(opt.state_dict(), os.path.join(d, "optimizer.pdopt"))
    paddle.save(sched.state_dict(), os.path.join(d, "scheduler.pdparams"))
    rng = {"python": random.getstate(), "numpy": np.random.get_state(),
           "cpu": paddle.get_rng_state()[0].current_seed()}
    paddle.save(rng, os.path.join(d, "rng_state.pth"))
    with open(os.path.join(d, "trainer_state.json"), "w") as f:
        json.dump({"global_step": step, "epoch": step / 100, "log_history": []}, f)
    time.sleep(0.01)
    return d


def write_trainer():
    root = os.path.join(OUT, "nlp")
    os.makedirs(root)
    for step in (100, 200, 300):
        trainer_checkpoint(root, step, sharded=(step == 200))
    # the variants a test damages, each a copy of the whole folder
    return root


def write_seg():
    root = os.path.join(OUT, "seg")
    for it in (1000, 2000):
        model, opt, _ = trained()
        d = os.path.join(root, f"iter_{it}")
        os.makedirs(d)
        paddle.save(model.state_dict(), os.path.join(d, "model.pdparams"))
        paddle.save(opt.state_dict(), os.path.join(d, "model.pdopt"))
        time.sleep(0.01)


def write_ocr():
    if not OCR:
        return
    sys.path.insert(0, OCR)
    for name in ("requests", "tqdm"):  # network-only imports of ppocr.utils.network
        stub = types.ModuleType(name)
        stub.tqdm = None
        sys.modules[name] = stub
    from ppocr.utils.logging import get_logger
    from ppocr.utils.save_load import save_model

    logger = get_logger()
    root = os.path.join(OUT, "ocr")
    config = {"Architecture": {"model_type": "rec", "algorithm": "CRNN"}, "Global": {"distributed": False}}
    model, opt, _ = trained()
    best = {"acc": 0.5}
    save_model(model, opt, root, logger, config, is_best=True, prefix="best_accuracy",
               best_model_dict=best, epoch=1, global_step=10)
    time.sleep(0.01)
    save_model(model, opt, root, logger, config, is_best=False, prefix="latest",
               best_model_dict=best, epoch=1, global_step=10)
    time.sleep(0.01)
    save_model(model, opt, root, logger, config, is_best=False, prefix="iter_epoch_2",
               best_model_dict=best, epoch=2, global_step=20)
    time.sleep(0.01)
    save_model(model, opt, root, logger, config, is_best=False, prefix="latest",
               best_model_dict=best, epoch=2, global_step=20)


def write_dcp():
    """paddle.distributed.checkpoint.save_state_dict, by Paddle itself (one process: rank 0), at
    two steps: dcp/step_100/ and dcp/step_200/ ({rank}_{n}.distcp + {n}.metadata)."""
    import paddle.distributed as dist
    model, opt, _ = trained()
    for step in (100, 200):
        state = dict(model.state_dict())
        dist.save_state_dict(state, os.path.join(OUT, "dcp", f"step_{step}"))


if __name__ == "__main__":
    write_dcp()
    write_trainer()
    write_seg()
    write_ocr()
    print("ok")
