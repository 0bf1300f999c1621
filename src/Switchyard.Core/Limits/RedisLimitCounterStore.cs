using StackExchange.Redis;

namespace Switchyard.Core.Limits;

/// <summary>
/// Counters in Redis, shared by every replica. Each operation is one Lua script over the counters of one subject, which share
/// a hash tag (<c>{sylim:key:alice}</c>), so it runs atomically on one node, cluster mode included. Every operation is bounded by
/// <c>LIMITS_REDIS_TIMEOUT_MS</c>; a failure throws and the caller counts locally.
/// </summary>
public sealed class RedisLimitCounterStore(Func<CancellationToken, Task<IDatabase>> database, TimeSpan timeout, TimeProvider time) : ILimitCounterStore
{
    // ARGV: now, apply, buckets, then per key: sliding (1/0), limit, amount, period. A sliding counter is a hash of B+1 slots,
    // c<slot> its count and i<slot> the sub-bucket index it holds; a budget is a plain integer. Check all, then add all.
    private const string ReserveScript = """
        local now = tonumber(ARGV[1])
        local apply = ARGV[2] == '1'
        local B = tonumber(ARGV[3])
        local S = B + 1
        local n = #KEYS
        local used = {}
        local refused = 0
        local retry = 0
        for i = 1, n do
          local a = 3 + (i - 1) * 4
          local sliding = ARGV[a + 1] == '1'
          local limit = tonumber(ARGV[a + 2])
          local amount = tonumber(ARGV[a + 3])
          local p = tonumber(ARGV[a + 4])
          local u = 0
          local over
          if sliding then
            local cur = math.floor(now / p)
            local flat = redis.call('HGETALL', KEYS[i])
            local counts = {}
            local idx = {}
            for j = 1, #flat, 2 do
              local f = flat[j]
              local s = tonumber(string.sub(f, 2))
              if string.sub(f, 1, 1) == 'c' then counts[s] = tonumber(flat[j + 1]) else idx[s] = tonumber(flat[j + 1]) end
            end
            local at = {}
            for s, ix in pairs(idx) do
              if ix >= cur - B and ix <= cur then
                local c = counts[s] or 0
                at[ix] = c
                u = u + c
              end
            end
            if amount > 0 then over = u + amount > limit else over = u >= limit end
            if refused == 0 and over then
              refused = i
              if amount > limit then
                retry = -1
              else
                local need = amount
                if need < 1 then need = 1 end
                local deficit = u + need - limit
                local freed = 0
                retry = S * p
                for j = cur - B, cur do
                  freed = freed + (at[j] or 0)
                  if freed >= deficit then
                    retry = (j + B + 1) * p - now
                    break
                  end
                end
              end
            end
          else
            u = tonumber(redis.call('GET', KEYS[i]) or '0')
            if amount > 0 then over = u + amount > limit else over = u >= limit end
            if refused == 0 and over then
              refused = i
              if p > 0 then retry = p - now else retry = -1 end
            end
          end
          used[i] = u
        end
        if refused == 0 and apply then
          for i = 1, n do
            local a = 3 + (i - 1) * 4
            local p = tonumber(ARGV[a + 4])
            if ARGV[a + 1] == '1' then
              local cur = math.floor(now / p)
              local slot = cur % S
              if tonumber(redis.call('HGET', KEYS[i], 'i' .. slot) or '-1') ~= cur then
                redis.call('HSET', KEYS[i], 'c' .. slot, 0, 'i' .. slot, cur)
              end
              redis.call('HINCRBY', KEYS[i], 'c' .. slot, ARGV[a + 3])
              redis.call('PEXPIRE', KEYS[i], (S + 1) * p)
            else
              redis.call('INCRBY', KEYS[i], ARGV[a + 3])
              if p > 0 then redis.call('PEXPIREAT', KEYS[i], p + 3600000) end
            end
          end
        end
        local reply = {refused, retry}
        for i = 1, n do reply[i + 2] = used[i] end
        return reply
        """;

    // ARGV: buckets, then per key: sliding (1/0), delta, sub-bucket index (sliding) or period end (budget), sub-bucket width.
    private const string AdjustScript = """
        local B = tonumber(ARGV[1])
        local S = B + 1
        local reply = {}
        for i = 1, #KEYS do
          local a = 1 + (i - 1) * 4
          local delta = tonumber(ARGV[a + 2])
          local v = 0
          if ARGV[a + 1] == '1' then
            local ix = tonumber(ARGV[a + 3])
            local p = tonumber(ARGV[a + 4])
            local slot = ix % S
            local stored = tonumber(redis.call('HGET', KEYS[i], 'i' .. slot) or '-1')
            if stored == ix then
              if redis.call('HINCRBY', KEYS[i], 'c' .. slot, ARGV[a + 2]) < 0 then redis.call('HSET', KEYS[i], 'c' .. slot, 0) end
            elseif stored < ix and delta > 0 then
              redis.call('HSET', KEYS[i], 'c' .. slot, ARGV[a + 2], 'i' .. slot, ix)
              redis.call('PEXPIRE', KEYS[i], (S + 1) * p)
            end
          else
            local ends = tonumber(ARGV[a + 3])
            v = redis.call('INCRBY', KEYS[i], ARGV[a + 2])
            if v < 0 then
              redis.call('SET', KEYS[i], 0)
              v = 0
            end
            if ends > 0 then redis.call('PEXPIREAT', KEYS[i], ends + 3600000) end
          end
          reply[i] = v
        end
        return reply
        """;

    public async ValueTask<CounterResult> ReserveAsync(CounterSpec[] specs, long[] amounts, long nowMs, bool apply, CancellationToken ct)
    {
        var keys = new RedisKey[specs.Length];
        var args = new RedisValue[3 + specs.Length * 4];
        args[0] = nowMs;
        args[1] = apply ? 1 : 0;
        args[2] = LimitCounters.Buckets;
        for (var i = 0; i < specs.Length; i++)
        {
            keys[i] = specs[i].Key;
            args[3 + i * 4] = specs[i].Sliding ? 1 : 0;
            args[4 + i * 4] = specs[i].Limit;
            args[5 + i * 4] = amounts[i];
            args[6 + i * 4] = specs[i].Period;
        }
        var reply = (RedisResult[])(await RunAsync(ReserveScript, keys, args, ct).ConfigureAwait(false))!;
        var used = new long[specs.Length];
        for (var i = 0; i < specs.Length; i++)
        {
            used[i] = (long)reply[i + 2];
        }
        return new CounterResult((int)(long)reply[0] - 1, (long)reply[1], used);
    }

    public async ValueTask<long[]> AdjustAsync(CounterSpec[] specs, long[] deltas, long[] buckets, CancellationToken ct)
    {
        var keys = new RedisKey[specs.Length];
        var args = new RedisValue[1 + specs.Length * 4];
        args[0] = LimitCounters.Buckets;
        for (var i = 0; i < specs.Length; i++)
        {
            keys[i] = specs[i].Key;
            args[1 + i * 4] = specs[i].Sliding ? 1 : 0;
            args[2 + i * 4] = deltas[i];
            args[3 + i * 4] = specs[i].Sliding ? buckets[i] : specs[i].Period;
            args[4 + i * 4] = specs[i].Period;
        }
        var reply = (RedisResult[])(await RunAsync(AdjustScript, keys, args, ct).ConfigureAwait(false))!;
        var after = new long[specs.Length];
        for (var i = 0; i < specs.Length; i++)
        {
            after[i] = (long)reply[i];
        }
        return after;
    }

    private async Task<RedisResult> RunAsync(string script, RedisKey[] keys, RedisValue[] args, CancellationToken ct)
    {
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(ct);
        scope.CancelAfter(timeout);
        try
        {
            // WaitAsync bounds the wait even where the client would wait for a connection longer than the limit allows.
            var db = await database(scope.Token).WaitAsync(timeout, time, scope.Token).ConfigureAwait(false);
            return await db.ScriptEvaluateAsync(script, keys, args).WaitAsync(timeout, time, scope.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"redis did not answer within {(int)timeout.TotalMilliseconds} ms");
        }
    }
}
