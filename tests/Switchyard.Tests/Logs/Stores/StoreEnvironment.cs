using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Logs.Stores;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>Builds log-store settings and stores from a set of environment variables, as the gateway does at start-up.</summary>
internal static class StoreEnvironment
{
    public static LogObjectStoreOptions Options(params (string Name, string Value)[] variables)
    {
        var env = variables.ToDictionary(v => v.Name, v => v.Value);
        return LogObjectStoreOptions.FromEnvironment(name => env.GetValueOrDefault(name));
    }

    public static ILogObjectStore Store(params (string Name, string Value)[] variables)
    {
        var options = Options(variables);
        return LogObjectStores.Create(options, options.Kind!, TimeProvider.System, NullLogger.Instance);
    }

    /// <summary>A small log document with some non-ASCII text, so a store that re-encodes or frames the body is caught.</summary>
    public static byte[] Document(string id) =>
        System.Text.Encoding.UTF8.GetBytes($$$"""{"_id":"{{{id}}}","request":{"body":{"messages":[{"role":"user","content":"héllo — ☃"}]}},"created_at":"2026-12-07T10:00:00.000Z"}""");
}
