"""The training side of the reference diffusion (guided-diffusion as DiT/Latte configure it,
create_diffusion(timestep_respacing="")): 1000 steps, linear betas 1e-4..0.02, epsilon prediction
with a learned-range variance, loss = MSE(eps) + VLB ("hybrid" loss: the VLB term sees the model's
variance with the mean stopped, spec class-to-video.md section 6). Schedules are float64 (numpy)
and cast to float32 at use, like the official code. Also a DDIM sampler for previews.
"""

import math

import numpy as np
import torch

STEPS = 1000


class Diffusion:
    def __init__(self):
        betas = np.linspace(1e-4, 0.02, STEPS, dtype=np.float64)
        ac = np.cumprod(1.0 - betas)
        ac_prev = np.append(1.0, ac[:-1])
        self.betas, self.ac, self.ac_prev = betas, ac, ac_prev
        self.sqrt_ac, self.sqrt_1m_ac = np.sqrt(ac), np.sqrt(1.0 - ac)
        self.sqrt_recip_ac, self.sqrt_recipm1_ac = np.sqrt(1.0 / ac), np.sqrt(1.0 / ac - 1)
        post_var = betas * (1.0 - ac_prev) / (1.0 - ac)
        self.post_logvar = np.log(np.append(post_var[1], post_var[1:]))
        self.coef1 = betas * np.sqrt(ac_prev) / (1.0 - ac)
        self.coef2 = (1.0 - ac_prev) * np.sqrt(1.0 - betas) / (1.0 - ac)
        self.log_betas = np.log(betas)

    @staticmethod
    def _at(arr, t, ndim):
        v = torch.from_numpy(arr).to(torch.float32)[t]
        return v.reshape(-1, *([1] * (ndim - 1)))

    def q_sample(self, x0, t, noise):
        return self._at(self.sqrt_ac, t, x0.ndim) * x0 + self._at(self.sqrt_1m_ac, t, x0.ndim) * noise

    def predict_x0(self, x_t, t, eps):
        """The clean sample that x_t and the predicted noise eps imply at timesteps t (B,)."""
        n = x_t.ndim
        return self._at(self.sqrt_recip_ac, t, n) * x_t - self._at(self.sqrt_recipm1_ac, t, n) * eps

    def p_mean_logvar(self, x_t, t, eps, v):
        """Model mean and log variance from eps and the variance value v (learned range)."""
        n = x_t.ndim
        frac = (v + 1) / 2
        logvar = frac * self._at(self.log_betas, t, n) + (1 - frac) * self._at(self.post_logvar, t, n)
        x0 = self.predict_x0(x_t, t, eps)
        mean = self._at(self.coef1, t, n) * x0 + self._at(self.coef2, t, n) * x_t
        return mean, logvar, x0

    def training_losses(self, model_out, x0, x_t, t, noise, channel_dim=2):
        """Per-sample (mse, vb) of the hybrid loss; model_out has 2C channels on channel_dim."""
        c = x0.shape[channel_dim]
        eps, v = model_out.split(c, dim=channel_dim)
        dims = list(range(1, x0.ndim))
        mse = (noise - eps).pow(2).mean(dim=dims)
        n = x0.ndim
        true_mean = self._at(self.coef1, t, n) * x0 + self._at(self.coef2, t, n) * x_t
        true_logvar = self._at(self.post_logvar, t, n)
        mean, logvar, _ = self.p_mean_logvar(x_t, t, eps.detach(), v)  # stop-grad on the mean
        kl = 0.5 * (-1.0 + logvar - true_logvar + torch.exp(true_logvar - logvar)
                    + (true_mean - mean).pow(2) * torch.exp(-logvar))
        kl = kl.mean(dim=dims) / math.log(2.0)
        nll = -discretized_gaussian_log_likelihood(x0, mean, 0.5 * logvar).mean(dim=dims) / math.log(2.0)
        vb = torch.where(t == 0, nll, kl)
        return mse, vb

    def ddim_timesteps(self, n):
        """The respaced timesteps (ascending), spec 6.2."""
        stride = (STEPS - 1) / (n - 1) if n > 1 else 1.0
        cur, keep = 0.0, []
        for _ in range(n):
            keep.append(round(cur))
            cur += stride
        return keep

    @torch.no_grad()
    def ddim_sample(self, model, shape, y, null, guidance, steps, generator):
        """DDIM (eta 0) with classifier-free guidance on the eps channels, as skipdit samples."""
        keep = self.ddim_timesteps(steps)
        acs = self.ac[keep]
        x = torch.randn(shape, generator=generator)
        b, c = shape[0], shape[2]
        for k in reversed(range(len(keep))):
            t = torch.full((b,), keep[k], dtype=torch.long)
            if guidance != 1.0:
                out = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, torch.full_like(y, null)]))
                cond, uncond = out[:b, :, :c], out[b:, :, :c]
                eps = uncond + guidance * (cond - uncond)
            else:
                eps = model(x, t, y)[:, :, :c]
            a, a_prev = float(acs[k]), float(acs[k - 1]) if k > 0 else 1.0
            x0 = math.sqrt(1 / a) * x - math.sqrt(1 / a - 1) * eps
            x = x0 * math.sqrt(a_prev) + math.sqrt(1 - a_prev) * eps
        return x


def _approx_std_normal_cdf(x):
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def discretized_gaussian_log_likelihood(x, means, log_scales):
    """guided-diffusion's decoder likelihood of data in [-1, 1] with 255 bins (used at t = 0)."""
    centered = x - means
    inv_stdv = torch.exp(-log_scales)
    cdf_plus = _approx_std_normal_cdf(inv_stdv * (centered + 1.0 / 255.0))
    cdf_min = _approx_std_normal_cdf(inv_stdv * (centered - 1.0 / 255.0))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_one_minus_cdf_min = torch.log((1.0 - cdf_min).clamp(min=1e-12))
    cdf_delta = cdf_plus - cdf_min
    return torch.where(x < -0.999, log_cdf_plus,
                       torch.where(x > 0.999, log_one_minus_cdf_min, torch.log(cdf_delta.clamp(min=1e-12))))
