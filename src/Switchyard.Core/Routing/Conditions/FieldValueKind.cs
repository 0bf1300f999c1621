namespace Switchyard.Core.Routing.Conditions;

/// <summary>The shape of a resolved <see cref="FieldValue"/>.</summary>
internal enum FieldValueKind
{
    /// <summary>The path does not exist (JavaScript's <c>undefined</c>).</summary>
    Undefined,

    /// <summary>A JSON value from the metadata or the body.</summary>
    Json,

    /// <summary>A string produced by the gateway (<c>url.pathname</c>).</summary>
    Text,

    /// <summary>A number produced by the gateway (<c>request.*</c>).</summary>
    Number,
}
