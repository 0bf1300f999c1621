using System.Text.Json;

namespace Switchyard.Tests.Infrastructure;

/// <summary>Request bodies and header sets the tests send again and again.</summary>
public static class Requests
{
    public const string Key = "sk-test-key";

    public static string Chat(string text = "hello there", string model = "gpt-4o-mini", bool stream = false, bool includeUsage = false)
    {
        var body = new Dictionary<string, object?>
        {
            ["model"] = model,
            ["messages"] = new[] { new { role = "user", content = text } },
        };
        if (stream)
        {
            body["stream"] = true;
            if (includeUsage)
            {
                body["stream_options"] = new { include_usage = true };
            }
        }
        return JsonSerializer.Serialize(body);
    }

    public static (string, string)[] HeaderMode(Uri upstream, string key = Key) =>
    [
        ("x-portkey-provider", "openai"),
        ("Authorization", "Bearer " + key),
        ("x-portkey-custom-host", upstream.ToString()),
    ];

    public static (string, string)[] Config(string config) => [("x-portkey-config", config)];

    /// <summary>A chat completion in header mode to an OpenAI-format upstream, ready to send (relative to the gateway).</summary>
    public static HttpRequestMessage HeaderModeChat(Uri upstream, bool stream = false)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(Chat(stream: stream), System.Text.Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in HeaderMode(upstream))
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        return message;
    }

    /// <summary>An inline config JSON for one OpenAI target at the given upstream.</summary>
    public static string Target(Uri upstream, string key = Key, string extra = "") =>
        $"{{\"provider\":\"openai\",\"api_key\":\"{key}\",\"custom_host\":\"{upstream}\"{(extra.Length > 0 ? "," + extra : "")}}}";

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"Expected JSON, got {(int)response.StatusCode}: {text}");
        }
    }

    public static string Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var v) ? string.Join(",", v)
        : response.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : "";
}
