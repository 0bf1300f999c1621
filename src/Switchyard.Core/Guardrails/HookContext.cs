using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Guardrails;

/// <summary>What hooks see of one request attempt (Portkey's hook span context); transforms replace the bodies it holds.</summary>
/// <remarks>
/// Bodies are swapped, never edited in place: checks of a hook run concurrently and each may still be reading the body it
/// started with. Every body is fully materialised when it is set, because a <see cref="JsonNode"/> parsed lazily from a
/// document builds its children on first access, which is not safe for concurrent readers.
/// </remarks>
public sealed class HookContext
{
    private JsonObject _requestJson;
    private JsonObject? _responseJson;

    public HookContext(JsonObject requestJson, string requestType, IRequestHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(requestJson);
        _requestJson = Materialize(requestJson);
        RequestType = requestType;
        Headers = headers;
        RequestText = ExtractRequestText(_requestJson);
    }

    /// <summary>The client's request body in its own protocol (after <c>override_params</c>).</summary>
    public JsonObject RequestJson => _requestJson;

    /// <summary>Portkey's <c>request.text</c>: the prompt, the last message's text, or the input.</summary>
    public string RequestText { get; private set; }

    public bool IsStreamingRequest { get; init; }

    public IRequestHeaders Headers { get; }

    /// <summary>The response body in the client's protocol; null before the response or for a stream.</summary>
    public JsonObject? ResponseJson => _responseJson;

    /// <summary>Portkey's <c>response.text</c>.</summary>
    public string ResponseText { get; private set; } = "";

    public int? StatusCode { get; private set; }

    /// <summary>The provider slug of the target being tried (e.g. <c>openai</c>).</summary>
    public string? Provider { get; init; }

    /// <summary>The request's span, which the guardrail spans belong under (async hooks run after the request flow has moved on).</summary>
    public System.Diagnostics.ActivityContext TraceParent { get; init; }

    /// <summary>Portkey's fn name: <c>chatComplete</c>, <c>complete</c>, <c>embed</c>, <c>messages</c>, <c>createModelResponse</c>, …</summary>
    public string RequestType { get; }

    /// <summary>The parsed <c>x-portkey-metadata</c> object (empty when absent).</summary>
    public JsonObject Metadata
    {
        get => _metadata;
        init => _metadata = Materialize(value ?? new JsonObject());
    }

    private readonly JsonObject _metadata = new();

    public bool RequestTransformed { get; private set; }

    public bool ResponseTransformed { get; private set; }

    /// <summary>Sets the upstream answer for after-request hooks (the body in the client's protocol, or null for a stream).</summary>
    public void SetResponse(JsonObject? responseJson, int statusCode)
    {
        _responseJson = responseJson is null ? null : Materialize(responseJson);
        ResponseText = ExtractResponseText(_responseJson);
        StatusCode = statusCode;
    }

    /// <summary>Replaces the request body after a transform and re-derives its text.</summary>
    public void ReplaceRequestJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        _requestJson = Materialize(json);
        RequestText = ExtractRequestText(_requestJson);
        RequestTransformed = true;
    }

    /// <summary>Replaces the response body after a transform and re-derives its text.</summary>
    public void ReplaceResponseJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        _responseJson = Materialize(json);
        ResponseText = ExtractResponseText(_responseJson);
        ResponseTransformed = true;
    }

    /// <summary>The body a check of <paramref name="ev"/> works on.</summary>
    public JsonObject? BodyFor(HookEvent ev) => ev == HookEvent.BeforeRequest ? _requestJson : _responseJson;

    /// <summary>Portkey's getCurrentContentPart (or, with <see cref="TextScope.All"/>, every text of the body).</summary>
    public ContentPart GetContentPart(HookEvent ev, TextScope scope = TextScope.Current)
    {
        var (content, slots) = ContentLocator.Locate(BodyFor(ev), RequestType, ev, scope);
        return new ContentPart(content, slots.ConvertAll(s => s.Text));
    }

    /// <summary>Portkey's getText: the current part's non-empty texts joined with a newline.</summary>
    public string GetText(HookEvent ev) => GetContentPart(ev).Text;

    /// <summary>Portkey's setCurrentContentPart: a copy of the body with the texts replaced (a null or empty entry keeps the original).</summary>
    /// <returns>The new body, or null when there is nothing to write (no texts, or no body).</returns>
    public JsonObject? WithTexts(HookEvent ev, IReadOnlyList<string?> texts, TextScope scope = TextScope.Current)
    {
        var body = BodyFor(ev);
        if (body is null || texts.Count == 0) return null;
        var copy = (JsonObject)body.DeepClone();
        var (_, slots) = ContentLocator.Locate(copy, RequestType, ev, scope);
        for (var i = 0; i < slots.Count && i < texts.Count; i++)
        {
            var text = texts[i];
            if (!string.IsNullOrEmpty(text) && slots[i].CanWrite) slots[i].Write(text);
        }
        return copy;
    }

    /// <summary>Writes the context as Portkey sends it to webhook and log plugins; request headers are left out.</summary>
    public void WritePluginContext(Utf8JsonWriter writer, HookEvent? ev)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("request");
        writer.WriteStartObject();
        writer.WritePropertyName("json");
        _requestJson.WriteTo(writer);
        writer.WriteString("text", RequestText);
        writer.WriteBoolean("isStreamingRequest", IsStreamingRequest);
        writer.WriteBoolean("isTransformed", RequestTransformed);
        writer.WriteEndObject();
        writer.WritePropertyName("response");
        writer.WriteStartObject();
        writer.WritePropertyName("json");
        if (_responseJson is null) writer.WriteNullValue();
        else _responseJson.WriteTo(writer);
        writer.WriteString("text", ResponseText);
        if (StatusCode is int status) writer.WriteNumber("statusCode", status);
        else writer.WriteNull("statusCode");
        writer.WriteBoolean("isTransformed", ResponseTransformed);
        writer.WriteEndObject();
        if (Provider is null) writer.WriteNull("provider");
        else writer.WriteString("provider", Provider);
        writer.WriteString("requestType", RequestType);
        writer.WritePropertyName("metadata");
        Metadata.WriteTo(writer);
        if (ev is HookEvent e) writer.WriteString("eventType", e == HookEvent.BeforeRequest ? "beforeRequestHook" : "afterRequestHook");
        writer.WriteEndObject();
    }

    /// <summary>The plugin context as UTF-8 JSON bytes.</summary>
    public byte[] ToPluginContextJson(HookEvent? ev)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) WritePluginContext(writer, ev);
        return buffer.WrittenSpan.ToArray();
    }

    private static string ExtractRequestText(JsonObject json)
    {
        if (Truthy(json["prompt"])) return JoinStrings(json["prompt"]);
        if (json["messages"] is JsonArray { Count: > 0 } messages)
        {
            var content = (messages[^1] as JsonObject)?["content"];
            if (content is JsonArray parts)
            {
                var joined = string.Join('\n', parts.Select(p => ContentLocator.ChatText((p as JsonObject)?["text"]) ?? ""));
                if (joined.Length > 0) return joined;
            }
            return ContentLocator.ChatText(content) ?? "";
        }
        var input = json["input"];
        if (ContentLocator.ChatText(input) is { } s) return s;
        if (input is JsonArray items)
        {
            if (items.All(i => i is JsonValue)) return JoinStrings(items);
            return ResponsesInputText(items);
        }
        return "";
    }

    private static string ResponsesInputText(JsonArray items)
    {
        var texts = new List<string>();
        foreach (var node in items)
        {
            if (node is not JsonObject item) continue;
            var type = ContentLocator.ChatText(item["type"]);
            if (type == "message" || item["role"] is not null)
            {
                if (ContentLocator.ChatText(item["content"]) is { } s) texts.Add(s);
                else if (item["content"] is JsonArray parts)
                {
                    var joined = string.Join('\n', parts.OfType<JsonObject>()
                        .Where(p => ContentLocator.ChatText(p["type"]) is "input_text" or "text")
                        .Select(p => ContentLocator.ChatText(p["text"]) ?? "")
                        .Where(t => t.Length > 0));
                    texts.Add(joined);
                }
            }
            else if (type == "function_call_output" && ContentLocator.ChatText(item["output"]) is { } output)
            {
                texts.Add(output);
            }
        }
        return string.Join('\n', texts.Where(t => t.Length > 0));
    }

    private static string ExtractResponseText(JsonObject? json)
    {
        if (json is null) return "";
        if (json["choices"] is JsonArray { Count: > 0 } choices && choices[0] is JsonObject choice)
        {
            if (ContentLocator.ChatText(choice["text"]) is { Length: > 0 } text) return text;
            var content = (choice["message"] as JsonObject)?["content"];
            if (ContentLocator.ChatText(content) is { } s) return s;
            if (content is JsonArray parts) return string.Join('\n', parts.Select(p => ContentLocator.ChatText((p as JsonObject)?["text"]) ?? "").Where(t => t.Length > 0));
            return "";
        }
        if (json["output"] is JsonArray)
        {
            var (_, slots) = ContentLocator.Locate(json, "createModelResponse", HookEvent.AfterRequest, TextScope.All);
            return string.Join('\n', slots.Select(s => s.Text).Where(t => t.Length > 0));
        }
        if (json["content"] is JsonArray)
        {
            var (_, slots) = ContentLocator.Locate(json, "messages", HookEvent.AfterRequest, TextScope.All);
            return string.Join('\n', slots.Select(s => s.Text).Where(t => t.Length > 0));
        }
        return "";
    }

    private static string JoinStrings(JsonNode? node) => node switch
    {
        JsonArray a => string.Join('\n', a.Select(e => ContentLocator.ChatText(e) ?? "")),
        _ => ContentLocator.ChatText(node) ?? "",
    };

    private static bool Truthy(JsonNode? node) => node switch
    {
        null => false,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length > 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        _ => true,
    };

    /// <summary>Forces every lazily parsed child into existence so concurrent readers never race on initialisation.</summary>
    internal static T Materialize<T>(T node) where T : JsonNode
    {
        Walk(node);
        return node;

        static void Walk(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var (_, child) in o) Walk(child);
                    break;
                case JsonArray a:
                    foreach (var child in a) Walk(child);
                    break;
            }
        }
    }
}
