using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails.Http;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.log</c>: POSTs the hook context to <c>logURL</c>; passes once the endpoint accepted it.</summary>
internal sealed class LogCheck(GuardrailServices services, Uri url, List<KeyValuePair<string, string>> headers, TimeSpan timeout) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var url = p.Url("logURL", required: true);
        var headers = p.Headers("headers");
        // Portkey's post() helper waits 5 s when the check gives no timeout.
        var timeout = p.Number("timeout", 5000, min: 1) ?? 5000;
        return url is null || !p.Ok ? null : new LogCheck(p.Services, url, headers, TimeSpan.FromMilliseconds(timeout));
    }

    public async ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        // Unlike Portkey, request headers are not sent: they carry the caller's credentials.
        var body = context.ToPluginContextJson(null);
        try
        {
            var response = await OutboundCall.SendAsync(services, HttpMethod.Post, url, () => WebhookCheck.Json(body), headers, timeout,
                services.MaxResponseBytes, followRedirects: false, ct).ConfigureAwait(false);
            if (!response.IsSuccess) return new CheckOutcome(false, null, new CheckError("HttpError", $"HTTP error! status: {(int)response.Status}"));
        }
        catch (TimeoutException ex)
        {
            return new CheckOutcome(false, null, new CheckError("TimeoutError", ex.Message));
        }
        catch (OutboundCallException ex)
        {
            return new CheckOutcome(false, null, CheckError.Of(ex.Message));
        }
        return new CheckOutcome(true, new JsonObject { ["message"] = $"Logged the request to {url.OriginalString}" });
    }
}
