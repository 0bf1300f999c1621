using System.Net;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails;

namespace Switchyard.Core.Pipeline;

/// <summary>The answers guardrails produce, byte for byte as Portkey writes them (portkey-compat §7.3).</summary>
internal static class HookResponses
{
    public const int FailedStatus = 246;
    public const int DeniedStatus = 446;
    public const string DeniedMessage =
        "The guardrail checks defined in the config failed. You can find more information in the `hook_results` object.";

    // JSON.stringify does not escape backticks, quotes or non-ASCII; neither do we.
    private static readonly JsonWriterOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Serialize(JsonNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Writer))
        {
            node.WriteTo(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static string SerializeToString(JsonNode node) => System.Text.Encoding.UTF8.GetString(Serialize(node));

    /// <summary><c>{"before_request_hooks":[…],"after_request_hooks":[…]}</c>.</summary>
    public static JsonObject Results(HookEventResult before, HookEventResult after) => new()
    {
        ["before_request_hooks"] = before.ToJsonArray(),
        ["after_request_hooks"] = after.ToJsonArray(),
    };

    /// <summary>The 446 answer: Portkey's <c>hooks_failed</c> error and both result arrays.</summary>
    public static HttpResponseMessage Denied(HookEventResult before, HookEventResult after)
    {
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = DeniedMessage,
                ["type"] = "hooks_failed",
                ["param"] = null,
                ["code"] = null,
            },
            ["hook_results"] = Results(before, after),
        };
        var response = new HttpResponseMessage((HttpStatusCode)DeniedStatus) { ReasonPhrase = "Hooks denied", Content = JsonContent(body) };
        return response;
    }

    public static ByteArrayContent JsonContent(JsonObject body)
    {
        var content = new ByteArrayContent(Serialize(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Replaces a response's body, keeping its content headers except the length (recomputed).</summary>
    public static void ReplaceBody(HttpResponseMessage response, byte[] body)
    {
        var old = response.Content;
        var content = new ByteArrayContent(body);
        foreach (var (name, values) in old.Headers.NonValidated)
        {
            if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                content.Headers.TryAddWithoutValidation(name, values);
            }
        }
        response.Content = content;
        old.Dispose();
    }
}
