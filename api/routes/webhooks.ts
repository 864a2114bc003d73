import { Router } from 'express';
import type { AccountService } from '../../core/accounts/accounts';
import { currentAccount } from '../middleware';

/** The account's Standard Webhooks signing secret (`whsec_…`). */
export function webhookRoutes(accounts: AccountService): Router {
  const router = Router();

  router.get('/webhooks/secret', async (req, res) => {
    const account = currentAccount(req);
    const current = await accounts.webhookSecret(account._id);
    const fresh = await accounts.get(account._id);
    res.json({
      secret: current.secret,
      created_at: current.created_at,
      also_signing_until: accounts
        .activeWebhookSecrets(fresh)
        .filter((s) => s.expires_at !== null)
        .map((s) => s.expires_at),
    });
  });

  router.post('/webhooks/secret/rotate', async (req, res) => {
    const account = currentAccount(req);
    const fresh = await accounts.rotateWebhookSecret(account._id);
    const after = await accounts.get(account._id);
    const previous = accounts.activeWebhookSecrets(after).filter((s) => s.expires_at !== null);
    res.status(201).json({
      secret: fresh.secret,
      created_at: fresh.created_at,
      note: 'Deliveries carry signatures from both the new and the previous secret until the previous one expires.',
      previous_expires_at: previous[0]?.expires_at ?? null,
    });
  });

  return router;
}
