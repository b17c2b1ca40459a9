/** What {@link fetchMerchantScore} found. */
export type MerchantScoreResult =
  | { readonly source: 'service'; readonly score: number }
  | { readonly source: 'fallback'; readonly score: number; readonly reason: string };

/** Options of {@link fetchMerchantScore}. */
export interface FetchMerchantScoreOpts {
  /** Base URL of the scoring service. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Returned, with the reason, when the service fails, times out or answers garbage. */
  readonly fallbackScore: number;
}

/**
 * Asks the scoring service for a merchant's score (`GET {baseUrl}/merchants/{id}/score`).
 * Never throws and never waits longer than `timeoutMs`: any failure (connection refused,
 * timeout, non-200, a body without a score in [0, 1]) gives the fallback score.
 *
 * @example
 * const { score, source } = await fetchMerchantScore('m-01', { baseUrl, timeoutMs: 1000, fallbackScore: 0.5 });
 */
export async function fetchMerchantScore(merchantId: string, opts: FetchMerchantScoreOpts): Promise<MerchantScoreResult> {
  const url = `${opts.baseUrl}/merchants/${encodeURIComponent(merchantId)}/score`;
  const fallback = (reason: string): MerchantScoreResult => ({ source: 'fallback', score: opts.fallbackScore, reason });
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
    if (response.status !== 200) {
      await response.body?.cancel();
      return fallback(`GET ${url} answered ${response.status}`);
    }
    const body = (await response.json()) as { score?: unknown };
    const score = body?.score;
    if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
      return fallback(`GET ${url} answered no score in [0, 1]: ${JSON.stringify(body).slice(0, 200)}`);
    }
    return { source: 'service', score };
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') return fallback(`GET ${url} timed out after ${opts.timeoutMs} ms`);
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    return fallback(`GET ${url} failed: ${cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error)}`);
  }
}
