using Switchyard.Core.Usage;

namespace Switchyard.Core.Pipeline;

/// <summary>Where a response body wrapper reports the token usage it saw. Exactly one wrapper reports per response.</summary>
public interface IUsageSink
{
    /// <summary>Reports the usage (in OpenAI semantics) and the model the provider answered with; later reports replace earlier ones.</summary>
    void ReportUsage(TokenUsage? usage, string? model);

    /// <summary>True when something reads the usage (request log, budgets, metrics); wrappers that only exist to find usage are skipped otherwise.</summary>
    bool WantsUsage { get; }
}
