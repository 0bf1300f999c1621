using System.Text.Json;
using Switchyard.Core.Configs;

namespace Switchyard.Core.Routing.Conditions;

/// <summary>A compiled <c>conditions[].query</c> of a <c>strategy.mode: "conditional"</c> node: compiled once per config, matched per request.</summary>
/// <remarks>Immutable after <see cref="Compile"/>, so one instance may be matched from many requests at once.</remarks>
public sealed class ConditionQuery
{
    private readonly ConditionNode _root;

    private ConditionQuery(ConditionNode root) => _root = root;

    /// <summary>
    /// Compiles <paramref name="query"/>, appending every problem to <paramref name="errors"/> with a JSON path under
    /// <paramref name="pathPrefix"/> (e.g. <c>strategy.conditions[0].query.$or[1].params.model.$regex</c>); null if there was any.
    /// </summary>
    public static ConditionQuery? Compile(JsonElement query, string pathPrefix, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(pathPrefix);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        var root = ConditionCompiler.CompileQuery(query, pathPrefix, errors);
        return root is null || errors.Count != before ? null : new ConditionQuery(root);
    }

    /// <summary>Whether the request described by <paramref name="context"/> satisfies the query.</summary>
    public bool Matches(ConditionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return _root.Matches(context);
    }
}
