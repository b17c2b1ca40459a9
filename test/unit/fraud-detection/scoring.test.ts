import { merchantScoreOf } from '../../../functions/fraud-detection/merchantScore';
import { fetchMerchantScore } from '../../../functions/fraud-detection/scoringClient';
import { type ScoringServer, startScoringServer } from '../../../functions/fraud-detection/scoringServer';

describe('Function: merchantScoreOf', () => {
  it('maps merchant ids deterministically onto [0.05, 0.95] with three decimals', () => {
    // Prepare
    const ids = Array.from({ length: 500 }, (_, i) => `m-${i}`);

    // Act
    const scores = ids.map(merchantScoreOf);

    // Assess
    expect(merchantScoreOf('m-06')).toBe(0.058);
    expect(merchantScoreOf('m-24')).toBe(0.925);
    expect(scores.every((s) => s >= 0.05 && s <= 0.95 && Math.round(s * 1000) / 1000 === s)).toBe(true);
    expect(ids.map(merchantScoreOf)).toEqual(scores);
  });
});

describe('Function: fetchMerchantScore', () => {
  let server: ScoringServer;
  beforeAll(async () => {
    server = await startScoringServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('returns the service score of the merchant', async () => {
    // Prepare
    const opts = { baseUrl: server.url, timeoutMs: 1000, fallbackScore: 0.5 };

    // Act
    const result = await fetchMerchantScore('m 06/ü', opts);

    // Assess
    expect(result).toEqual({ source: 'service', score: merchantScoreOf('m 06/ü') });
  });

  it('falls back when the service is not listening', async () => {
    // Prepare
    const down = await startScoringServer();
    await down.close();

    // Act
    const result = await fetchMerchantScore('m-01', { baseUrl: down.url, timeoutMs: 1000, fallbackScore: 0.5 });

    // Assess
    expect(result).toEqual({ source: 'fallback', score: 0.5, reason: `GET ${down.url}/merchants/m-01/score failed: ECONNREFUSED` });
  });

  it('falls back after the timeout when the service does not answer in time', async () => {
    // Prepare
    const slow = await startScoringServer({ delayMs: 2000 });
    const startedAt = Date.now();

    // Act
    const result = await fetchMerchantScore('m-01', { baseUrl: slow.url, timeoutMs: 100, fallbackScore: 0.4 });
    const tookMs = Date.now() - startedAt;
    await slow.close();

    // Assess
    expect(result).toEqual({ source: 'fallback', score: 0.4, reason: `GET ${slow.url}/merchants/m-01/score timed out after 100 ms` });
    expect(tookMs).toBeLessThan(1000);
  });

  it('falls back when the service answers an error status', async () => {
    // Prepare
    const opts = { baseUrl: `${server.url}/nowhere`, timeoutMs: 1000, fallbackScore: 0.5 };

    // Act
    const result = await fetchMerchantScore('m-01', opts);

    // Assess
    expect(result).toEqual({ source: 'fallback', score: 0.5, reason: `GET ${server.url}/nowhere/merchants/m-01/score answered 404` });
  });
});
