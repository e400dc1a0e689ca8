"""Adam's learning rate over a run: constant, decayed every epoch, eased in, and lowered when
the accuracy stops improving (the reference SHD simulator's two-EMA plateau rule)."""
from dataclasses import dataclass


@dataclass
class Plateau:
    """Lower the rate by ``factor`` when a fast moving average of the accuracy falls to or
    below a slow one: after each epoch e_fast <- alpha_fast e_fast + (1 - alpha_fast) acc and
    e_slow likewise (both start at 0); the rate drops when e_fast <= e_slow and more than
    ``min_epochs`` epochs have passed since the last drop (or since epoch 0)."""
    alpha_fast: float
    alpha_slow: float
    factor: float
    min_epochs: int
    accuracy_of: str          # the phase whose accuracy drives the rule: "train" or the other


class LearningRateSchedule:
    """``rate`` is what Adam uses now; ``target`` is where the ease-in is heading.

    - ``decay``: target *= decay at the start of every training epoch (1: no decay);
    - ``ease_in``: the rate starts at target / 1000 and is multiplied by ``ease_in`` after
      every trial until it reaches the target (None: no ease-in);
    - ``plateau``: a ``Plateau`` rule applied at the end of every epoch (None: none); a drop
      sets the rate to the lowered target at once.
    """

    def __init__(self, eta, decay=1.0, ease_in=None, plateau=None):
        self.decay, self.ease_in, self.plateau = decay, ease_in, plateau
        self.target = eta
        self.rate = eta / 1000.0 if ease_in else eta
        self.ema_fast = self.ema_slow = 0.0
        self.last_drop = 0

    def start_epoch(self):
        self.target *= self.decay
        self.rate = min(self.rate, self.target)

    def after_trial(self):
        if self.ease_in and self.rate < self.target:
            self.rate = min(self.rate * self.ease_in, self.target)

    def end_epoch(self, epoch, accuracies):
        """Applies the plateau rule to the epoch's ``accuracies`` {phase: accuracy}; True if
        the rate dropped."""
        rule = self.plateau
        if rule is None:
            return False
        acc = accuracies[rule.accuracy_of]
        self.ema_fast = rule.alpha_fast * self.ema_fast + (1.0 - rule.alpha_fast) * acc
        self.ema_slow = rule.alpha_slow * self.ema_slow + (1.0 - rule.alpha_slow) * acc
        if epoch - self.last_drop > rule.min_epochs and self.ema_fast <= self.ema_slow:
            self.target *= rule.factor
            self.rate = self.target
            self.last_drop = epoch
            return True
        return False

    def state(self):
        return {"target": self.target, "rate": self.rate, "ema_fast": self.ema_fast,
                "ema_slow": self.ema_slow, "last_drop": self.last_drop}

    def set_state(self, state):
        for key, value in state.items():
            setattr(self, key, value)
