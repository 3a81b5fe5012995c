"""Deep Q-learning (DQN) on a gymnasium environment: CartPole-v1 by default, offline.

The guide's method, top to bottom:
  1. data       experience: gymnasium environments (data.num_envs stepped together, as one
                SyncVectorEnv), actions epsilon-greedy with epsilon falling linearly over
                data.exploration.decay_steps environment steps, transitions kept in a replay
                buffer of data.replay_size (the oldest go first), batches sampled uniformly.
                An epoch is data.steps_per_epoch environment steps; a step is one update.
  2. model      an MLP Q-network (observation -> one value per action) and its target network,
                copied every model.target_every updates (hard) or blended in after each update
                (soft, Polyak with model.tau)
  3. loss       Huber (or MSE) between Q(s, a) and r + gamma * max_a' Q_target(s', a') (Double DQN:
                the online network picks a', the target network values it); an episode cut short
                by a time limit is bootstrapped, one that ended is not. Metrics: training
                returns and episode lengths, epsilon, loss, mean Q (a rising one warns of
                divergence), environment steps per second; every evaluation, the greedy policy's
                return over data.eval_episodes episodes
  4. optimiser  Adam, AdamW or SGD; schedules (mlx_runtime.build_optimizer / build_scheduler)
  5. loop       mixed precision, gradient clipping, an update limit, train metrics every
                `train.log_every` updates and at each epoch end, evaluation every
                `train.eval_every` epochs, early stopping; a loss that is not finite or explodes (train.divergence) stops the run
                (diverged); Ctrl-C or SIGTERM saves a checkpoint
  6. output     metrics.jsonl and TensorBoard; checkpoints (periodic, best, last, on interrupt)
                with both networks, the optimiser, the replay buffer, the environments themselves
                (pickled, mid-episode) and every random generator, so `--resume` continues
                exactly where it stopped
  7. analysis   the returns of the last evaluation's episodes, and the training returns, over
                environment steps (PNG)

Every value comes from the resolved config (JSON), read as data.

Run it through mlx:  mlx run configs/rl-dqn.yaml
Run it by hand:      python train.py --config config.json   (needs mlx's python/ on PYTHONPATH)
"""

import functools
import math
import time
from collections import deque

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from mlx_runtime import TrainingLoop, build_optimizer, compile_model, pyplot, start_run

run = start_run(__doc__)  # the config, seeds, the device, the checkpoint to go on from, metrics
cfg, device, metrics = run.cfg, run.device, run.metrics
data_cfg, model_cfg, loss_cfg, train_cfg = cfg["data"], cfg["model"], cfg["loss"], cfg["train"]
run_dir = run.run_dir

# -----------------------------------------------------------------------------
# 1. Data: environments, exploration, replay
#
# One random generator draws every exploration choice and every replay sample, so a seed
# repeats a run and a checkpoint holds all the randomness there is (with the environments').


def make_envs(count: int) -> gym.vector.SyncVectorEnv:
    try:
        gym.spec(data_cfg["env"])
    except gym.error.Error as error:
        raise SystemExit(f"data.env {data_cfg['env']!r} is not a gymnasium environment here ({error})") from None
    # Same-step autoreset: an episode's last observation comes in info["final_obs"], the reset one as the next.
    return gym.vector.SyncVectorEnv([functools.partial(gym.make, data_cfg["env"]) for _ in range(count)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


envs = make_envs(data_cfg["num_envs"])
if not isinstance(envs.single_action_space, gym.spaces.Discrete) or len(envs.single_observation_space.shape) != 1:
    raise SystemExit(f"DQN needs discrete actions and a vector observation; {data_cfg['env']} has "
                     f"{envs.single_action_space} and observations of shape {envs.single_observation_space.shape}")
observation_size, actions = envs.single_observation_space.shape[0], int(envs.single_action_space.n)
random = np.random.default_rng(cfg["seed"])
num_envs = data_cfg["num_envs"]


class ReplayBuffer:
    """The last `capacity` transitions (observation, action, reward, next observation, ended), sampled uniformly."""

    def __init__(self, capacity: int):
        self.capacity, self.size, self.next = capacity, 0, 0
        self.observations = np.zeros((capacity, observation_size), dtype=np.float32)
        self.next_observations = np.zeros((capacity, observation_size), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.ended = np.zeros(capacity, dtype=np.float32)

    def add(self, observations, actions_taken, rewards, next_observations, ended) -> None:
        for i in range(len(actions_taken)):
            slot = self.next
            self.observations[slot], self.next_observations[slot] = observations[i], next_observations[i]
            self.actions[slot], self.rewards[slot], self.ended[slot] = actions_taken[i], rewards[i], ended[i]
            self.next, self.size = (slot + 1) % self.capacity, min(self.size + 1, self.capacity)

    def state_dict(self) -> dict:
        return dict(vars(self))

    def load_state_dict(self, state: dict) -> None:
        vars(self).update(state)

    def sample(self, count: int):
        rows = random.integers(0, self.size, count)
        return tuple(torch.from_numpy(part[rows]).to(device) for part in
                     (self.observations, self.actions, self.rewards, self.next_observations, self.ended))


exploration = data_cfg["exploration"]


def epsilon_at(env_steps: int) -> float:
    fraction = min(1.0, env_steps / max(1, exploration["decay_steps"]))
    return exploration["start"] + fraction * (exploration["end"] - exploration["start"])


# -----------------------------------------------------------------------------
# 2. Model: the Q-network and its target


def q_network() -> nn.Sequential:
    layers, width = [], observation_size
    for size in model_cfg["hidden"]:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, actions))


raw_model = q_network().to(device)
target = q_network().to(device)
target.load_state_dict(raw_model.state_dict())
target.requires_grad_(False)
model = compile_model(raw_model, train_cfg["compile"])

# -----------------------------------------------------------------------------
# 3. Loss: the temporal-difference error

criterion = nn.HuberLoss(delta=loss_cfg["huber_delta"]) if loss_cfg["name"] == "huber" else nn.MSELoss()
gamma = loss_cfg["gamma"]
autocast = run.autocast  # train.amp: bf16 or fp16 autocast, or nothing at all


def td_loss(batch):
    """The loss of a batch and the mean Q(s, a) it saw."""
    observations, actions_taken, rewards, next_observations, ended = batch
    with autocast:
        q = model(observations).float().gather(1, actions_taken.unsqueeze(1)).squeeze(1)
        with torch.no_grad():
            next_target = target(next_observations).float()
            # Double DQN: the online network chooses the next action, the target network values it.
            chooser = model(next_observations).float() if loss_cfg["double"] else next_target
            next_value = next_target.gather(1, chooser.argmax(dim=1, keepdim=True)).squeeze(1)
            wanted = rewards + gamma * (1.0 - ended) * next_value
    return criterion(q, wanted), q.mean()


@torch.no_grad()
def greedy_actions(observations: np.ndarray) -> np.ndarray:
    with autocast:
        return model(torch.as_tensor(observations, dtype=torch.float32, device=device)).float().argmax(dim=1).cpu().numpy()


last_returns = []  # of the latest evaluation's episodes


def evaluate(epoch: int) -> dict:
    """The greedy policy over data.eval_episodes episodes, each seeded from the run's seed and the epoch."""
    started = time.perf_counter()
    model.eval()
    env = gym.make(data_cfg["env"])
    returns, lengths = [], []
    for episode in range(data_cfg["eval_episodes"]):
        observation, _ = env.reset(seed=cfg["seed"] * 100_003 + epoch * 1_009 + episode)
        total, length, done = 0.0, 0, False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(int(greedy_actions(observation[None])[0]))
            total, length, done = total + float(reward), length + 1, terminated or truncated
        returns.append(total)
        lengths.append(length)
    env.close()
    model.train()
    last_returns[:] = returns
    return {"val/return": float(np.mean(returns)), "val/return_std": float(np.std(returns)),
            "val/length": float(np.mean(lengths)), "perf/eval_time": time.perf_counter() - started}


# -----------------------------------------------------------------------------
# 4. Optimiser and schedule

optimizer = build_optimizer(cfg["optim"], model.parameters())
epochs = train_cfg["epochs"]
# Each iteration steps every environment once (num_envs transitions); updates start once
# learning_starts transitions are in, then come every update_every iterations.
iterations_per_epoch = math.ceil(data_cfg["steps_per_epoch"] / num_envs)
first_update = max(1, math.ceil(data_cfg["learning_starts"] / num_envs))
update_every = data_cfg["update_every"]


def updates_by(iteration: int) -> int:
    """Updates made once `iteration` iterations have run."""
    return max(0, iteration // update_every - (first_update - 1) // update_every)


total_updates = updates_by(epochs * iterations_per_epoch)


def visited_states(count: int, first: int) -> tuple:
    """mlx export's inputs: observations the agent met (the replay buffer's), the Q-network's inputs in use."""
    rows = (first + np.arange(count)) % max(1, buffer.size)
    return (torch.from_numpy(buffer.observations[rows]),)
# The schedule (per update, epoch or evaluation), AMP's gradient scaler, early stopping, checkpoints; a step
# is an update, and the first epoch's are fewer (the warm-up).
loop = TrainingLoop(run, raw_model, optimizer, steps_per_epoch=updates_by(iterations_per_epoch),
                    total_steps=total_updates, schedule_steps_per_epoch=max(1, total_updates // epochs),
                    extra_state=lambda: dict(
                        target=target.state_dict(), iteration=iteration, buffer=buffer.state_dict(), envs=envs,
                        observations=observations, episode_returns=episode_returns, episode_lengths=episode_lengths,
                        finished_returns=finished_returns, finished_lengths=finished_lengths,
                        return_curve=return_curve, random=random.bit_generator.state, window=window),
                    unit="update", example_inputs=visited_states)

# -----------------------------------------------------------------------------
# 5. Training loop

buffer = ReplayBuffer(data_cfg["replay_size"])
observations, _ = envs.reset(seed=cfg["seed"])
episode_returns, episode_lengths = np.zeros(num_envs), np.zeros(num_envs, dtype=np.int64)
finished_returns = deque(maxlen=data_cfg["return_window"])
finished_lengths = deque(maxlen=data_cfg["return_window"])
return_curve = []  # (environment steps, return) of every finished training episode
iteration = 0
saved = run.resume_from
if saved:
    target.load_state_dict(saved["target"])
    iteration = saved["iteration"]
    buffer.load_state_dict(saved["buffer"])
    envs, observations = saved["envs"], saved["observations"]
    episode_returns, episode_lengths = saved["episode_returns"], saved["episode_lengths"]
    finished_returns, finished_lengths = saved["finished_returns"], saved["finished_lengths"]
    return_curve = saved["return_curve"]
    random.bit_generator.state = saved["random"]


def empty_window() -> dict:
    """The train metrics gathered since the last log line (saved in checkpoints: a resumed run logs the same)."""
    return {"loss": 0.0, "q": 0.0, "updates": 0, "env_steps": 0, "update_time": 0.0, "lr": cfg["optim"]["lr"],
            "start": time.perf_counter()}


def log_window(epoch: int, extra: dict) -> None:
    global window
    elapsed = time.perf_counter() - window["start"]
    episodes = {"train/return": float(np.mean(finished_returns)),
                "train/episode_length": float(np.mean(finished_lengths))} if finished_returns else {}
    memory = {"perf/cuda_max_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30} \
        if device.type == "cuda" else {}
    metrics.log({"train/loss": window["loss"] / window["updates"], "train/q_mean": window["q"] / window["updates"],
                 **episodes, "epsilon": epsilon_at(iteration * num_envs), "lr": window["lr"], **extra,
                 "perf/samples_per_sec": window["env_steps"] / elapsed,
                 "perf/step_time": window["update_time"] / window["updates"], **memory}, step=loop.step, epoch=epoch)
    window = empty_window()


window = saved["window"] | {"start": time.perf_counter()} if saved else empty_window()
loop.start(env=data_cfg["env"], num_envs=num_envs, env_steps_per_epoch=iterations_per_epoch * num_envs,
           units={"epoch": f"epoch of {iterations_per_epoch * num_envs} env steps", "step": "update",
                  "samples": "env steps"})
for epoch in loop.epochs():
    while iteration < epoch * iterations_per_epoch and loop.step < loop.total_steps and not loop.interrupted:
        env_steps = iteration * num_envs
        explore = random.random(num_envs) < epsilon_at(env_steps)
        chosen = np.where(explore, random.integers(0, actions, num_envs), greedy_actions(observations))
        next_observations, rewards, terminated, truncated, infos = envs.step(chosen)
        ended_now = terminated | truncated
        # What followed each action: an episode's own last observation, not the next one's first.
        landed = np.where(ended_now[:, None], np.stack([infos["final_obs"][i] if ended_now[i] else next_observations[i]
                                                        for i in range(num_envs)]), next_observations)
        # A time limit cuts an episode short: bootstrap from where it stopped. Only a real end has no future.
        buffer.add(observations, chosen, rewards, landed, terminated.astype(np.float32))
        observations = next_observations
        episode_returns += rewards
        episode_lengths += 1
        for i in np.flatnonzero(ended_now):
            finished_returns.append(float(episode_returns[i]))
            finished_lengths.append(int(episode_lengths[i]))
            return_curve.append((env_steps + num_envs, float(episode_returns[i])))
            episode_returns[i], episode_lengths[i] = 0.0, 0
        iteration += 1
        window["env_steps"] += num_envs
        if iteration < first_update or iteration % update_every != 0:
            continue

        update_start = time.perf_counter()
        loss, q_mean = td_loss(buffer.sample(data_cfg["batch_size"]))
        loss_value = loop.backward(loss)
        logging_now = (loop.step + 1) % train_cfg["log_every"] == 0
        grad_norm, step_lr = loop.apply_gradients(measure_norm=logging_now)
        if model_cfg["target_update"] == "soft":
            with torch.no_grad():
                for online, lagging in zip(raw_model.parameters(), target.parameters()):
                    lagging.lerp_(online, model_cfg["tau"])
        elif loop.step % model_cfg["target_every"] == 0:
            target.load_state_dict(raw_model.state_dict())
        window["loss"] += loss_value
        window["q"] += q_mean.item()
        window["updates"] += 1
        window["lr"] = step_lr
        window["update_time"] += time.perf_counter() - update_start
        if logging_now:
            log_window(epoch, {"train/grad_norm": grad_norm})

    if loop.interrupted and iteration < epoch * iterations_per_epoch and loop.step < loop.total_steps:
        break  # interrupted mid-epoch: saved by loop.finish(), the window of train metrics with it
    if window["updates"]:
        log_window(epoch, {})  # every epoch ends with its train metrics, whatever log_every says
    loop.end_epoch(functools.partial(evaluate, epoch), env_steps=iteration * num_envs)

# -----------------------------------------------------------------------------
# 6. The last checkpoint

loop.finish()

# -----------------------------------------------------------------------------
# 7. Analysis: how the returns grew, and how the last evaluation went

if train_cfg["artifacts"] and return_curve and last_returns:
    plt = pyplot()
    figure, (curve, spread) = plt.subplots(1, 2, figsize=(11, 4))
    steps_seen, returns_seen = zip(*return_curve)
    curve.plot(steps_seen, returns_seen, alpha=0.3, label="training episodes")
    window_size = data_cfg["return_window"]
    if len(returns_seen) >= window_size:
        smooth = np.convolve(returns_seen, np.ones(window_size) / window_size, mode="valid")
        curve.plot(steps_seen[window_size - 1:], smooth, label=f"mean of {window_size}")
    curve.set_xlabel("environment steps")
    curve.set_ylabel("return")
    curve.set_title(f"{data_cfg['env']}: training returns")
    curve.legend()
    spread.hist(last_returns, bins=20)
    spread.set_xlabel("return")
    spread.set_ylabel("episodes")
    spread.set_title(f"greedy evaluation after epoch {loop.epochs_done} ({len(last_returns)} episodes)")
    figure.tight_layout()
    figure.savefig(run_dir / "returns.png", dpi=100)
    plt.close(figure)
    metrics.event("returns", step=loop.step, evaluation=last_returns, artifacts=["returns.png"])

envs.close()
loop.close()
