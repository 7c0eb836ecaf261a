"""`paddledoctor inspect DIR`: a training job's checkpoint folder, in the layouts of PaddleNLP's
Trainer, PaddleOCR (its own save_model, from the paddleocr wheel) and PaddleSeg, written by real
Paddle (tests/inspect/folders/write_folders.py). Each damage a killed job or a full disk leaves is
named, and the newest checkpoint that is safe to resume from is the one named."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from paddledoctor.inspect import inspect

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WRITER = HERE / "folders" / "write_folders.py"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "paddledoctor-tests"


def paddleocr_dir() -> str:
    """The real paddleocr 2.10.0 wheel (2.4 MB), --no-deps, unpacked once into the test cache."""
    target = CACHE / "paddleocr-2.10.0"
    if (target / "paddleocr" / "ppocr" / "utils" / "save_load.py").is_file():
        return str(target / "paddleocr")
    CACHE.mkdir(parents=True, exist_ok=True)
    dl = CACHE / "dl-paddleocr"
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                           "paddleocr==2.10.0", "-d", str(dl)], capture_output=True, text=True,
                          timeout=300)
    wheels = list(dl.glob("paddleocr-2.10.0-*.whl"))
    if proc.returncode or not wheels:
        return ""
    with zipfile.ZipFile(wheels[0]) as z:
        z.extractall(target)
    return str(target / "paddleocr")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("folders")
    ocr = paddleocr_dir()
    proc = subprocess.run([sys.executable, str(WRITER), str(out), ocr], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, bool(ocr)


@pytest.fixture
def folder(written, tmp_path):
    """A fresh copy of the written folders, for one test to damage."""
    out, _ = written
    copy = tmp_path / "w"
    shutil.copytree(out, copy)
    return copy


def verdict(path):
    report = inspect([str(path)])
    return report, {f.code: f for f in report.findings}


def test_whole_trainer_folder_resumes_from_the_newest(folder):
    report, by = verdict(folder / "nlp")
    assert set(by) == {"PD813"}, [f.title for f in report.findings]
    assert by["PD813"].evidence["checkpoint"].endswith("checkpoint-300")
    assert report.exit_code() == 0
    layouts = report.facts["inspect"]["folders"][0]["layouts"]
    assert layouts == ["paddlenlp-trainer"]


def test_sharded_checkpoint_is_read_through_its_index(folder):
    report, _ = verdict(folder / "nlp")
    unit = next(u for u in report.facts["inspect"]["folders"][0]["checkpoints"]
                if u["name"] == "checkpoint-200")
    assert [os.path.basename(p) for p in unit["files"]["model"]] == [
        "model_state-00001-of-00002.pdparams", "model_state-00002-of-00002.pdparams"]


@pytest.mark.parametrize("damage, words", [
    (lambda d: (d / "optimizer.pdopt").unlink(), "missing optimizer.pdopt"),
    (lambda d: (d / "scheduler.pdparams").unlink(), "missing scheduler.pdparams"),
    (lambda d: (d / "trainer_state.json").unlink(), "missing trainer_state.json"),
    (lambda d: os.truncate(d / "model_state.pdparams", 300), "model_state.pdparams:"),
    (lambda d: (d / "trainer_state.json").write_text(json.dumps({"global_step": 250})),
     "records global_step 250"),
])
def test_a_broken_newest_checkpoint_is_pd811_and_names_the_one_to_use(folder, damage, words):
    damage(folder / "nlp" / "checkpoint-300")
    report, by = verdict(folder / "nlp")
    assert "PD811" in by and words in by["PD811"].title + " ".join(by["PD811"].evidence["faults"])
    assert by["PD811"].evidence["newest_safe"].endswith("checkpoint-200")
    assert by["PD813"].evidence["checkpoint"].endswith("checkpoint-200")
    assert report.exit_code() == 1


def test_a_missing_shard_is_named(folder):
    (folder / "nlp" / "checkpoint-200" / "model_state-00002-of-00002.pdparams").unlink()
    report, by = verdict(folder / "nlp")
    assert "PD812" in by and "model_state-00002-of-00002.pdparams" in by["PD812"].title
    assert report.exit_code() == 0  # an older one: the newest is whole
    assert by["PD813"].evidence["checkpoint"].endswith("checkpoint-300")


def test_optimizer_of_another_model_is_inconsistent(folder, written):
    out, _ = written
    # the optimizer state of a model with other parameter names (a rebuilt model)
    import subprocess as sp
    target = folder / "nlp" / "checkpoint-300" / "optimizer.pdopt"
    sp.run([sys.executable, "-c", (
        "import paddle,sys\n"
        "paddle.nn.Linear(1,1); paddle.nn.Linear(1,1); paddle.nn.Linear(1,1)\n"
        "m=paddle.nn.Linear(4,2); o=paddle.optimizer.Adam(parameters=m.parameters())\n"
        "m(paddle.randn([1,4])).mean().backward(); o.step()\n"
        "paddle.save(o.state_dict(), sys.argv[1])\n"), str(target)], check=True, timeout=120)
    _, by = verdict(folder / "nlp")
    assert "PD811" in by and "optimizer accumulators name no parameter" in " ".join(
        by["PD811"].evidence["faults"])


def test_nothing_safe_says_so(folder):
    for d in (folder / "nlp").iterdir():
        (d / "optimizer.pdopt").unlink()
    _, by = verdict(folder / "nlp")
    assert "PD811" in by and by["PD811"].evidence["newest_safe"] == "none" and "PD813" not in by


def test_paddleseg_layout(folder):
    report, by = verdict(folder / "seg")
    assert by["PD813"].evidence["checkpoint"].endswith("iter_2000")
    (folder / "seg" / "iter_2000" / "model.pdopt").unlink()
    _, by = verdict(folder / "seg")
    assert by["PD811"].evidence["newest_safe"].endswith("iter_1000")


def test_paddleocr_layout_written_by_paddleocr(folder, written):
    if not written[1]:
        pytest.skip("the paddleocr wheel could not be downloaded (offline): its own save_model "
                    "writes this folder")
    report, by = verdict(folder / "ocr")
    assert set(by) == {"PD813"}, [f.title for f in report.findings]
    units = {u["name"]: u for u in report.facts["inspect"]["folders"][0]["checkpoints"]}
    assert {"latest", "best_accuracy", "iter_epoch_2", "best_model"} <= set(units)
    assert units["latest"]["layout"] == "paddleocr"
    assert by["PD813"].evidence["checkpoint"].endswith("latest")
    os.truncate(folder / "ocr" / "latest.pdopt", 100)
    _, by = verdict(folder / "ocr")
    assert "PD811" in by and by["PD813"].evidence["checkpoint"].endswith("iter_epoch_2")


def test_an_empty_folder_is_pd814(tmp_path):
    report, by = verdict(tmp_path)
    assert set(by) == {"PD814"} and report.exit_code() == 1


def test_cli_text_names_the_checkpoint(folder):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "paddledoctor", "inspect", str(folder / "nlp")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "INFO PD813 Resume from checkpoint-300" in out.stdout


def test_a_distributed_checkpoint_written_by_paddle_is_read_through_its_metadata(folder):
    report, by = verdict(folder / "dcp")
    assert set(by) == {"PD813"}, [f.title for f in report.findings]
    assert by["PD813"].evidence["checkpoint"].endswith("step_200")
    unit = report.facts["inspect"]["folders"][0]["checkpoints"][-1]
    assert unit["layout"] == "paddle-distributed-checkpoint"
    assert unit["indexes"][0]["shards"] == ["0_0.distcp"]  # named by Paddle's own metadata pickle


def test_a_distributed_checkpoint_without_its_shard_or_metadata_is_broken(folder):
    (folder / "dcp" / "step_200" / "0_0.distcp").unlink()
    (folder / "dcp" / "step_100" / "0.metadata").unlink()
    report, by = verdict(folder / "dcp")
    assert "PD811" in by and "0_0.distcp" in " ".join(by["PD811"].evidence["faults"])
    assert "missing 0.metadata" in by["PD812"].title + " ".join(by["PD812"].evidence.get("faults", []))
    assert report.exit_code() == 1


def test_an_older_checkpoint_with_two_faults_names_the_first_and_counts_the_rest(folder):
    old = folder / "nlp" / "checkpoint-200"
    (old / "optimizer.pdopt").unlink()
    (old / "scheduler.pdparams").unlink()
    report, by = verdict(folder / "nlp")
    f = by["PD812"]
    assert f.title.endswith(" (+1 more)"), f.title
    assert f.title.split(" cannot be resumed from: ")[1] == f"{f.evidence['faults'][0]} (+1 more)"
    assert len(f.evidence["faults"]) == 2 and report.exit_code() == 0  # the newest is whole


def test_an_optimizer_is_judged_against_the_model_file_of_its_own_stem(folder):
    seg = folder / "seg"
    # iter_1000's model rebuilt after three other layers: its parameters are named linear_3.*
    subprocess.run([sys.executable, "-c", (
        "import paddle,sys\n"
        "paddle.nn.Linear(1,1); paddle.nn.Linear(1,1); paddle.nn.Linear(1,1)\n"
        "m=paddle.nn.Linear(4,2)\n"
        "paddle.save(m.state_dict(), sys.argv[1])\n"), str(seg / "iter_1000" / "model.pdparams")],
        check=True, timeout=120)
    files = [seg / "iter_1000" / "model.pdparams", seg / "iter_2000" / "model.pdparams",
             seg / "iter_2000" / "model.pdopt"]
    report = inspect([str(p) for p in files])
    assert "PD803" not in {f.code for f in report.findings}, [f.title for f in report.findings]
    report = inspect([str(files[0]), str(files[2])])  # the wrong case: the only model is another's
    assert "PD803" in {f.code for f in report.findings}, [f.title for f in report.findings]
