using System.Net;
using System.Text;
using System.Text.Json;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Limits;

/// <summary>What one request through a gateway replica came back with.</summary>
internal sealed record LimitShot(int Replica, HttpStatusCode Status, string Body, IReadOnlyDictionary<string, string> RateHeaders, TimeSpan? RetryAfter, int? TotalTokens)
{
    /// <summary>Portkey's <c>error.code</c> of a refusal body, or null.</summary>
    public string? ErrorCode
    {
        get
        {
            try
            {
                using var doc = JsonDocument.Parse(Body);
                return doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object
                    && e.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    public override string ToString() =>
        $"{(int)Status} from gateway-{Replica} (retry-after {RetryAfter?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}; "
        + $"{string.Join(", ", RateHeaders.Select(h => h.Key + "=" + h.Value))}): {Body[..Math.Min(Body.Length, 160)]}";
}

/// <summary>Chat requests with a gateway key, sent to replicas at once, and what they returned.</summary>
internal static class LimitTraffic
{
    /// <summary>Ten words: the simulator counts 10 prompt tokens and answers "echo: " and them, 11 completion tokens.</summary>
    public const string TenWords = "one two three four five six seven eight nine ten";

    public static HttpRequestMessage Chat(Uri upstream, string key, bool stream = false, int? maxTokens = null, string text = "hello there")
    {
        var body = new Dictionary<string, object?>
        {
            ["model"] = "gpt-4o-mini",
            ["messages"] = new[] { new { role = "user", content = text } },
        };
        if (maxTokens is { } m)
        {
            body["max_tokens"] = m;
        }
        if (stream)
        {
            body["stream"] = true;
            body["stream_options"] = new { include_usage = true };
        }
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-portkey-api-key", key);
        foreach (var (name, value) in Requests.HeaderMode(upstream))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }

    /// <summary>Sends one request to a replica and reads the whole answer (a stream to its end, taking the usage of its last usage event).</summary>
    public static async Task<LimitShot> SendAsync(GatewayProcess gateway, int replica, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var body = await response.Content.ReadAsStringAsync();
            var headers = response.Headers.Concat(response.Content.Headers)
                .Where(h => h.Key.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase))
                .ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value), StringComparer.Ordinal);
            return new LimitShot(replica, response.StatusCode, body, headers, RetryAfterOf(response), TotalTokens(body));
        }
    }

    /// <summary>
    /// Fires <paramref name="perReplica"/>[i] requests at replica i, all released at the same moment so they really compete,
    /// and returns every outcome.
    /// </summary>
    public static async Task<LimitShot[]> BurstAsync(GatewayReplicas replicas, int[] perReplica, Func<HttpRequestMessage> make)
    {
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var shots = new List<Task<LimitShot>>();
        for (var i = 0; i < perReplica.Length; i++)
        {
            for (var j = 0; j < perReplica[i]; j++)
            {
                var replica = i;
                shots.Add(Task.Run(async () =>
                {
                    await go.Task;
                    return await SendAsync(replicas[replica], replica, make());
                }));
            }
        }
        go.SetResult();
        return await Task.WhenAll(shots);
    }

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta
        ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    /// <summary><c>usage.total_tokens</c> of a JSON answer, or of the last SSE event that carries a usage object.</summary>
    private static int? TotalTokens(string body)
    {
        int? Of(string json)
        {
            try
            {
                using var doc = JsonDocument.Parse(json);
                return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("usage", out var u)
                    && u.ValueKind == JsonValueKind.Object && u.TryGetProperty("total_tokens", out var t) ? t.GetInt32() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
        if (!body.StartsWith("data:", StringComparison.Ordinal))
        {
            return Of(body);
        }
        int? last = null;
        foreach (var line in body.Split('\n'))
        {
            if (line.StartsWith("data: {", StringComparison.Ordinal) && Of(line[6..]) is { } t)
            {
                last = t;
            }
        }
        return last;
    }
}
