using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchyard.Core.Guardrails.Http;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.validUrls</c>: every http(s) URL in the text answers a HEAD request with 2xx (or, with <c>onlyDNS</c>, its host resolves).</summary>
/// <remarks>
/// The URLs come from model output or the client, so each one is put through the SSRF rules before any request: a URL
/// pointing at a private or metadata address counts as invalid without being contacted.
/// </remarks>
internal sealed partial class ValidUrlsCheck(GuardrailServices services, bool onlyDns, bool not) : IGuardrailCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
    private const int Concurrency = 8;

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var onlyDns = p.Bool("onlyDNS");
        var not = p.Bool("not");
        return p.Ok ? new ValidUrlsCheck(p.Services, onlyDns, not) : null;
    }

    public async ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev);
        var method = onlyDns ? "DNS lookup" : "HTTP request";
        if (text.Length == 0)
        {
            return CheckOutcome.Failed("Missing text to analyze", new JsonObject
            {
                ["explanation"] = "An error occurred while validating URLs: Missing text to analyze",
                ["validationMethod"] = method,
                ["not"] = not,
                ["textExcerpt"] = "No text available",
            });
        }
        var urls = UrlPattern().Matches(text).Select(m => TrimTrailingPunctuation(m.Value)).Where(u => u.Length > 0).ToList();
        if (urls.Count == 0)
        {
            return new CheckOutcome(false, new JsonObject
            {
                ["explanation"] = "No URLs found in the text.",
                ["urls"] = new JsonArray(),
                ["validationMethod"] = method,
                ["not"] = not,
                ["textExcerpt"] = CheckData.Excerpt(text),
            });
        }

        // Each distinct URL is checked once, a few at a time, so a text full of links cannot fan out without bound.
        var distinct = urls.Distinct(StringComparer.Ordinal).ToList();
        var results = new Dictionary<string, bool>(StringComparer.Ordinal);
        using var gate = new SemaphoreSlim(Concurrency);
        var tasks = distinct.Select(async url =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                return (url, ok: onlyDns ? await CheckDnsAsync(url, ct).ConfigureAwait(false) : await CheckUrlAsync(url, ct).ConfigureAwait(false));
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        foreach (var (url, ok) in await Task.WhenAll(tasks).ConfigureAwait(false)) results[url] = ok;

        var valid = urls.Where(u => results[u]).ToList();
        var invalid = urls.Where(u => !results[u]).ToList();
        var allValid = invalid.Count == 0;
        var verdict = CheckData.Apply(allValid, not);
        var data = new JsonObject
        {
            ["verdict"] = verdict,
            ["not"] = not,
            ["explanation"] = CheckData.Explain(verdict, not,
                $"All URLs are valid ({valid.Count} found).",
                $"All URLs are invalid as expected ({invalid.Count} of {urls.Count}).",
                $"Some URLs are invalid ({invalid.Count} of {urls.Count} failed).",
                $"Some URLs are valid when they should all be invalid ({valid.Count} of {urls.Count})."),
            ["validUrls"] = CheckData.Strings(valid),
            ["invalidUrls"] = CheckData.Strings(invalid),
            ["validationMethod"] = method,
            ["textExcerpt"] = CheckData.Excerpt(text),
        };
        return new CheckOutcome(verdict, data);
    }

    private async Task<bool> CheckUrlAsync(string url, CancellationToken ct)
    {
        if (!GuardedUrl.TryCreate(services.Hosts, url, out var uri, out _)) return false;
        try
        {
            var response = await OutboundCall.SendAsync(services, HttpMethod.Head, uri, null, [new("User-Agent", "URLValidator/1.0")],
                Timeout, 0, followRedirects: true, ct).ConfigureAwait(false);
            return response.IsSuccess;
        }
        catch (Exception ex) when (ex is TimeoutException or OutboundCallException or HttpRequestException)
        {
            return false;
        }
    }

    private async Task<bool> CheckDnsAsync(string url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return false;
        using var timeout = new CancellationTokenSource(Timeout, services.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            var addresses = await services.ResolveHost(uri.IdnHost, linked.Token).ConfigureAwait(false);
            return addresses.Length > 0;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>A sentence often ends right after a URL: its closing period (or an unmatched parenthesis) is not part of it.</summary>
    private static string TrimTrailingPunctuation(string url)
    {
        var end = url.Length;
        while (end > 0)
        {
            var c = url[end - 1];
            if (c is '.' or '!' or '?' or ';' or ':') end--;
            else if (c == ')' && url.AsSpan(0, end).Count('(') < url.AsSpan(0, end).Count(')')) end--;
            else break;
        }
        return url[..end];
    }

    [GeneratedRegex(@"https?://[^\s,""'{}\[\]]+", RegexOptions.None, 1000)]
    private static partial Regex UrlPattern();
}
