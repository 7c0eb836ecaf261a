"""Real Paddle models for `bench --model` tests: the factories a user would write.

Each returns FACTORY()'s dict. They differ in what a resume needs: dropout (Paddle's RNG), an LR
scheduler, AMP's GradScaler, a numpy-driven data pipeline, a name that changes with each build, a
buffer kept outside the state_dict."""

import itertools
import random

import numpy as np
import paddle


class MLP(paddle.nn.Layer):
    def __init__(self, dropout=0.0, width=16):
        super().__init__()
        self.fc1 = paddle.nn.Linear(8, width)
        self.drop = paddle.nn.Dropout(dropout)
        self.fc2 = paddle.nn.Linear(width, 1)

    def forward(self, x):
        return self.fc2(self.drop(paddle.nn.functional.relu(self.fc1(x))))


def _batch(step):
    rng = np.random.RandomState(step)
    return paddle.to_tensor(rng.standard_normal((4, 8)).astype("float32"))


def plain():
    """Adam, constant LR, no randomness in training: model + optimizer resume exactly."""
    model = MLP()
    return {"model": model, "optimizer": paddle.optimizer.Adam(1e-2, parameters=model.parameters()),
            "batch": _batch}


def dropout():
    """Dropout draws from Paddle's RNG: its state must be saved."""
    model = MLP(dropout=0.5)
    return {"model": model, "optimizer": paddle.optimizer.Adam(1e-2, parameters=model.parameters()),
            "batch": _batch}


def scheduler():
    """A StepDecay passed as the optimizer's learning rate, kept out of the optimizer's state."""
    model = MLP()
    sched = paddle.optimizer.lr.StepDecay(learning_rate=0.05, step_size=1, gamma=0.5)
    return {"model": model, "scheduler": sched, "batch": _batch,
            "optimizer": paddle.optimizer.SGD(learning_rate=sched, parameters=model.parameters())}


def numpy_data():
    """The data pipeline draws from numpy's global RNG."""
    model = MLP()
    return {"model": model, "optimizer": paddle.optimizer.Adam(1e-2, parameters=model.parameters()),
            "batch": lambda step: paddle.to_tensor(np.random.standard_normal((4, 8)).astype("float32"))}


def amp_scaler():
    """AMP with a GradScaler whose loss scale grows every step (incr_every_n_steps=1)."""
    model = MLP()
    opt = paddle.optimizer.SGD(1e-3, parameters=model.parameters())
    scaler = paddle.amp.GradScaler(init_loss_scaling=1024.0, incr_every_n_steps=1, incr_ratio=2.0)
    return {"model": model, "optimizer": opt, "scaler": scaler, "batch": _batch,
            "loss": lambda m, x: (m(x) ** 2).mean() * 1e-3}


def everything():
    """Dropout, a scheduler and python's random in the loss: three pieces must be saved."""
    model = MLP(dropout=0.3)
    sched = paddle.optimizer.lr.StepDecay(learning_rate=0.05, step_size=1, gamma=0.7)
    return {"model": model, "scheduler": sched, "batch": _batch,
            "optimizer": paddle.optimizer.SGD(learning_rate=sched, parameters=model.parameters()),
            "loss": lambda m, x: m(x).mean() * (1.0 + random.random())}


class Counted(paddle.nn.Layer):
    """Keeps a step counter outside its state_dict: no saved piece brings it back."""

    def __init__(self):
        super().__init__()
        self.fc = paddle.nn.Linear(8, 1)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.fc(x) * float(self.calls)


def hidden_state():
    model = Counted()
    return {"model": model, "optimizer": paddle.optimizer.SGD(1e-2, parameters=model.parameters()),
            "batch": _batch}


_BUILDS = itertools.count()


def renamed():
    """Each build names its layers anew (a global counter that unique_name.guard does not reset):
    the optimizer's saved accumulators are keyed to names the rebuilt model does not have."""
    n = next(_BUILDS)
    model = paddle.nn.Linear(8, 1, weight_attr=paddle.ParamAttr(name=f"w_build{n}"),
                             bias_attr=paddle.ParamAttr(name=f"b_build{n}"))
    return {"model": model, "optimizer": paddle.optimizer.Adam(1e-2, parameters=model.parameters()),
            "batch": _batch}


def with_input_spec():
    """No batch(): the inputs come from the InputSpec the factory gives."""
    model = MLP()
    return {"model": model, "optimizer": paddle.optimizer.Adam(1e-2, parameters=model.parameters()),
            "input_spec": [paddle.static.InputSpec([None, 8], "float32")]}


def no_inputs():
    model = MLP()
    return {"model": model, "optimizer": paddle.optimizer.Adam(1e-2, parameters=model.parameters())}


def not_a_dict():
    return MLP()


def raises():
    raise RuntimeError("the dataset folder /data/train is missing")


def sized(width=512):
    """A model of some size, for throughput: width x width linear layers."""
    layers = [paddle.nn.Linear(width, width) for _ in range(4)]
    model = paddle.nn.Sequential(*layers)
    rng = np.random.RandomState(0)
    data = paddle.to_tensor(rng.standard_normal((8, width)).astype("float32"))
    return {"model": model, "optimizer": paddle.optimizer.AdamW(1e-3, parameters=model.parameters()),
            "batch": lambda step: data}


def sized_large():
    return sized(2048)


def detached_scheduler():
    """A scheduler the optimizer does not hold: the loop sets the LR from it (opt.set_lr), so
    only saving the scheduler itself brings the LR back."""
    model = MLP()
    opt = paddle.optimizer.SGD(learning_rate=0.05, parameters=model.parameters())
    sched = paddle.optimizer.lr.StepDecay(learning_rate=0.05, step_size=1, gamma=0.5)

    def loss(m, x):
        opt.set_lr(sched.get_lr())
        return m(x).mean()
    return {"model": model, "optimizer": opt, "scheduler": sched, "batch": _batch, "loss": loss}
