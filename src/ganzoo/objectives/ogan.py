"""O-GAN (Su 2019, "O-GAN: Extremely Concise Approach for Auto-Encoding Generative Adversarial Networks"): the
article's GAN-QP loss, with its encoder (objectives/encoder.py) on by default (conf/loss/ogan.yaml picks
`encoder=ogan`; `encoder=none` leaves GAN-QP alone).

T is the critic's score, lower meaning more real (with the encoder, T(x) = avg E(x)). The reference loss, with
x_f = G(z) and sg = stop-gradient, is

    t1 = T(x) - T(sg(x_f));  t2 = T(x_f) - T(sg(x_f))  (value 0; its gradient reaches G only)
    qp = 0.25 t1^2 / mean_pixels((x - sg(x_f))^2)
    total = mean(t1 + t2) + mean(qp)   (- 0.5 mean rho(z, E(x_f)): the encoder's term)

Split into the alternating loop, E's gradient of `total` is the critic step's and G's is the generator step's:
    critic:    mean(t1 + qp)
    generator: mean T(x_f)
Paper defaults: RMSProp(1e-4, alpha 0.99), batch 64, z_dim 128.
"""

from __future__ import annotations

from ganzoo.objectives.objective import Objective, Scores


class OGAN(Objective):
    def critic_loss(self, s: Scores):
        t1 = s.f_real - s.f_fake
        qp = 0.25 * t1**2 / ((s.real - s.fake) ** 2).flatten(1).mean(1)
        return (t1 + qp).mean(), {"train/w_estimate": -t1.mean().detach()}

    def generator_loss(self, s: Scores):
        return s.f_fake.mean(), {}
