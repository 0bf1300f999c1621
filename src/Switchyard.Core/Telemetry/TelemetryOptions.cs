using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Telemetry;

/// <summary>
/// What the engine's instruments record and under which names: the GenAI convention generation
/// (<c>OTEL_SEMCONV_STABILITY_OPT_IN</c>) and the bounds on open-ended label values (<c>METRICS_LABEL_VALUE_LIMIT</c>,
/// <c>PROMETHEUS_INCLUDE_MODEL_LABEL</c>, <c>PROMETHEUS_INCLUDE_METADATA_LABELS</c>, <c>PROMETHEUS_LABELS_METADATA_ALLOWED_KEYS</c>).
/// </summary>
public sealed record TelemetryOptions
{
    /// <summary>The opt-in token that switches metric and attribute names to the semantic-conventions-genai v0.1.0 generation.</summary>
    public const string LatestGenAiToken = "gen_ai_latest_experimental";

    /// <summary>Most metadata keys that may become labels: each one multiplies the series of the request counter.</summary>
    public const int MaxMetadataLabels = 8;

    /// <summary>
    /// Emit the newer GenAI names (<c>gen_ai.client.inference.*</c>, usage counters with <c>gen_ai.token.modality</c>)
    /// instead of the v1.41 ones; set when <c>OTEL_SEMCONV_STABILITY_OPT_IN</c> lists <c>gen_ai_latest_experimental</c>.
    /// </summary>
    public bool LatestGenAiConventions { get; init; }

    /// <summary>Label series by model (<c>PROMETHEUS_INCLUDE_MODEL_LABEL</c>, default true: the GenAI conventions carry the model).</summary>
    public bool IncludeModelLabel { get; init; } = true;

    /// <summary>Label the gateway's request, token and cost series by gateway key, team and virtual key (<c>PROMETHEUS_INCLUDE_API_KEY_NAME_LABEL</c>, default true).</summary>
    public bool IncludeCallerLabels { get; init; } = true;

    /// <summary>
    /// Distinct values an open-ended label (request model, response model, guardrail id, each metadata key) may take;
    /// later values are reported as <c>_other</c> (<c>METRICS_LABEL_VALUE_LIMIT</c>, default 100).
    /// </summary>
    public int LabelValueLimit { get; init; } = 100;

    /// <summary>
    /// <c>x-portkey-metadata</c> keys promoted to <c>metadata_&lt;key&gt;</c> labels on the request counter; empty unless
    /// <c>PROMETHEUS_INCLUDE_METADATA_LABELS=true</c> with <c>PROMETHEUS_LABELS_METADATA_ALLOWED_KEYS</c>.
    /// </summary>
    public IReadOnlyList<string> MetadataLabelKeys { get; init; } = [];

    public static TelemetryOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new TelemetryOptions();
        var optIn = NonEmpty(get("OTEL_SEMCONV_STABILITY_OPT_IN")) ?? "";
        var latest = false;
        foreach (var token in optIn.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            latest |= token.Equals(LatestGenAiToken, StringComparison.OrdinalIgnoreCase);
        }
        return d with
        {
            LatestGenAiConventions = latest,
            IncludeModelLabel = Bool(get, "PROMETHEUS_INCLUDE_MODEL_LABEL", d.IncludeModelLabel),
            IncludeCallerLabels = Bool(get, "PROMETHEUS_INCLUDE_API_KEY_NAME_LABEL", d.IncludeCallerLabels),
            LabelValueLimit = Int(get, "METRICS_LABEL_VALUE_LIMIT", d.LabelValueLimit, 1, 10_000),
            MetadataLabelKeys = Bool(get, "PROMETHEUS_INCLUDE_METADATA_LABELS", false) ? MetadataKeys(get) : [],
        };
    }

    private static string[] MetadataKeys(Func<string, string?> get)
    {
        const string name = "PROMETHEUS_LABELS_METADATA_ALLOWED_KEYS";
        var raw = NonEmpty(get(name))
            ?? throw new FormatException($"PROMETHEUS_INCLUDE_METADATA_LABELS=true needs {name}: a comma-separated list of x-portkey-metadata keys to promote to labels.");
        var keys = raw.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToArray();
        if (keys.Length > MaxMetadataLabels)
        {
            throw new FormatException($"{name} lists {keys.Length} keys: at most {MaxMetadataLabels} may become labels (each one multiplies the series).");
        }
        foreach (var key in keys)
        {
            // A Prometheus label name is [a-zA-Z_][a-zA-Z0-9_]*; the key becomes metadata_<key>.
            if (key.Length > 64 || key.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"))
            {
                throw new FormatException($"{name}: '{key}' is not usable as a label: use letters, digits and underscores (at most 64).");
            }
        }
        return keys;
    }
}
