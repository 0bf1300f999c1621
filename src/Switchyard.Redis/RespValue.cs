using System.Text;

namespace Switchyard.Redis;

/// <summary>The kinds of RESP2/RESP3 replies.</summary>
public enum RespKind
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
    Null,
    Boolean,
    Double,
    BigNumber,
    Map,
    Set,
    Push,
}

/// <summary>One decoded reply. Strings keep their bytes (cached LLM responses are binary-safe); maps are flattened key, value, key, value.</summary>
public sealed class RespValue
{
    public static readonly RespValue NullValue = new(RespKind.Null);

    private RespValue(RespKind kind) => Kind = kind;

    public RespKind Kind { get; private init; }

    /// <summary>The bytes of a simple string, error, bulk string, double or big number.</summary>
    public byte[]? Bytes { get; private init; }

    public long Integer { get; private init; }

    /// <summary>Elements of an array, set, push, or a map's keys and values in turn.</summary>
    public IReadOnlyList<RespValue>? Items { get; private init; }

    public bool IsNull => Kind == RespKind.Null;

    public bool IsError => Kind == RespKind.Error;

    /// <summary>The text of a string-like reply (UTF-8), or null.</summary>
    public string? Text => Bytes is null ? null : Encoding.UTF8.GetString(Bytes);

    public static RespValue Simple(RespKind kind, byte[] bytes) => new(kind) { Bytes = bytes };

    public static RespValue Number(long value) => new(RespKind.Integer) { Integer = value };

    public static RespValue Bool(bool value) => new(RespKind.Boolean) { Integer = value ? 1 : 0 };

    public static RespValue Aggregate(RespKind kind, IReadOnlyList<RespValue> items) => new(kind) { Items = items };

    public override string ToString() => Kind switch
    {
        RespKind.Integer => Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        RespKind.Boolean => Integer == 1 ? "true" : "false",
        RespKind.Null => "(nil)",
        RespKind.Array or RespKind.Set or RespKind.Push or RespKind.Map => "[" + string.Join(", ", Items!) + "]",
        RespKind.Error => "(error) " + Text,
        _ => Text ?? "",
    };
}
