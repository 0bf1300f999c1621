using System.Text.Json.Nodes;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Usage;

/// <summary>Remembers the model and the usage reported in canonical chunks.</summary>
internal sealed class UsageCapture
{
    private JsonObject? _usage;
    private string? _model;

    public (TokenUsage? Usage, string? Model) Result => (_usage is null ? null : CanonicalUsage.Read(_usage), _model);

    public void Observe(JsonObject chunk)
    {
        _model ??= ChatJson.String(chunk["model"]);
        if (chunk["usage"] is JsonObject usage)
        {
            _usage = usage;
        }
    }
}
