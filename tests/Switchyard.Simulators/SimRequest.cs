using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Switchyard.Simulators;

/// <summary>What an endpoint sees of a request: its path, raw body, optional form, and simulator settings.</summary>
internal sealed class SimRequest : IDisposable
{
    private JsonDocument? _document;

    public SimRequest(string method, string path, byte[] body, SimulatorOptions options)
    {
        Method = method;
        Path = path;
        Body = body;
        Options = options;
    }

    public string Method { get; }

    public string Path { get; }

    public byte[] Body { get; }

    public SimulatorOptions Options { get; }

    /// <summary>Set for multipart requests before the endpoint runs.</summary>
    public IFormCollection? Form { get; set; }

    /// <summary>The body's root object; valid after <see cref="ParseJsonObject"/> returned null.</summary>
    public JsonElement Root { get; private set; }

    /// <summary>Parses the body; returns the 400 reply OpenAI gives for a non-JSON or non-object body, else null.</summary>
    public SimReply? ParseJsonObject()
    {
        try
        {
            _document = JsonDocument.Parse(Body);
        }
        catch (JsonException)
        {
            return OpenAiErrors.InvalidJson();
        }

        Root = _document.RootElement;
        return Root.ValueKind == JsonValueKind.Object
            ? null
            : OpenAiErrors.InvalidRequest($"Invalid type for request body: expected an object, but got {RequestFields.Describe(Root)} instead.");
    }

    public void Dispose() => _document?.Dispose();
}
