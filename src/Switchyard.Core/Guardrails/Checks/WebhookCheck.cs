using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails.Http;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.webhook</c>: POSTs the hook context to a URL and takes its <c>verdict</c> (and optional transformed bodies).</summary>
internal sealed class WebhookCheck(GuardrailServices services, Uri url, List<KeyValuePair<string, string>> headers, TimeSpan timeout, double timeoutMs) : IGuardrailCheck
{
    public bool MayTransform => true;

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var url = p.Url("webhookURL", required: true);
        var headers = p.Headers("headers");
        var timeout = p.Number("timeout", 3000, min: 1) ?? 3000;
        return url is null || !p.Ok ? null : new WebhookCheck(p.Services, url, headers, TimeSpan.FromMilliseconds(timeout), timeout);
    }

    public async ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var body = context.ToPluginContextJson(ev);
        OutboundResponse response;
        try
        {
            response = await OutboundCall.SendAsync(services, HttpMethod.Post, url, () => Json(body), headers, timeout,
                services.MaxResponseBytes, followRedirects: false, ct).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            return Error(new CheckError("TimeoutError", ex.Message), null);
        }
        catch (OutboundCallException ex)
        {
            return Error(CheckError.Of(ex.Message), null);
        }

        if (!response.IsSuccess)
        {
            JsonNode? responseData = null;
            if (response.ContentType?.MediaType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
                responseData = TryParse(response.Body);
            return Error(new CheckError("HttpError", $"HTTP error! status: {(int)response.Status}"), responseData);
        }
        if (TryParse(response.Body) is not JsonObject answer)
        {
            return Error(CheckError.Of("the webhook answered with something other than a JSON object"), null);
        }
        if (answer["verdict"] is not JsonValue verdictValue || !verdictValue.TryGetValue<bool>(out var verdict))
        {
            return Error(CheckError.Of("the webhook answer has no boolean 'verdict'"), null);
        }

        JsonObject? transformedRequest = null, transformedResponse = null;
        if (answer["transformedData"] is JsonObject transformedData)
        {
            var side = ev == HookEvent.BeforeRequest ? "request" : "response";
            var replacement = (transformedData[side] as JsonObject)?["json"];
            if (replacement is JsonObject replacementObject)
            {
                var copy = (JsonObject)replacementObject.DeepClone();
                if (ev == HookEvent.BeforeRequest) transformedRequest = copy;
                else transformedResponse = copy;
            }
            else if (replacement is not null)
            {
                return Error(CheckError.Of($"the webhook's transformedData.{side}.json must be a JSON object"), null);
            }
        }

        var data = new JsonObject
        {
            ["verdict"] = verdict,
            ["explanation"] = verdict ? "Webhook request succeeded" : "Webhook request failed",
            ["webhookUrl"] = url.OriginalString,
            ["responseData"] = answer["data"]?.DeepClone(),
            ["requestContext"] = new JsonObject { ["timeout"] = TimeoutNode() },
        };
        var transformed = transformedRequest is not null || transformedResponse is not null;
        return new CheckOutcome(verdict, data, Transformed: transformed)
        {
            TransformedRequest = transformedRequest,
            TransformedResponse = transformedResponse,
        };
    }

    private CheckOutcome Error(CheckError error, JsonNode? responseData)
    {
        var data = new JsonObject
        {
            ["explanation"] = $"Webhook error: {error.Message}",
            ["webhookUrl"] = url.OriginalString,
            ["requestContext"] = new JsonObject { ["timeout"] = TimeoutNode() },
        };
        if (responseData is not null) data["responseData"] = responseData;
        return new CheckOutcome(false, data, error);
    }

    /// <summary>The configured timeout as written: a whole number stays an integer in the result.</summary>
    private JsonNode TimeoutNode() => Math.Floor(timeoutMs) == timeoutMs ? JsonValue.Create((long)timeoutMs) : JsonValue.Create(timeoutMs);

    internal static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    internal static JsonNode? TryParse(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
