using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Telemetry;

/// <summary>
/// The allow-listed <c>x-portkey-metadata</c> keys as <c>metadata_&lt;key&gt;</c> labels (Portkey's names), each with
/// its own bound on distinct values. Only top-level string values count; anything else leaves the label out.
/// </summary>
internal sealed class MetadataLabels
{
    private readonly string[] _keys;
    private readonly string[] _labels;
    private readonly BoundedLabel[] _values;

    public MetadataLabels(IReadOnlyList<string> keys, int valueLimit)
    {
        _keys = [.. keys];
        _labels = [.. keys.Select(k => "metadata_" + k)];
        _values = [.. keys.Select(_ => new BoundedLabel(valueLimit))];
    }

    public void AddTo(ref TagList tags, IRequestHeaders headers)
    {
        if (headers.Get("x-portkey-metadata") is not { Length: > 0 and <= 64 * 1024 } raw)
        {
            return;
        }
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(raw.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(raw, rented);
            Read(ref tags, rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void Read(ref TagList tags, ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var index = -1;
                for (var i = 0; i < _keys.Length; i++)
                {
                    if (reader.ValueTextEquals(_keys[i]))
                    {
                        index = i;
                        break;
                    }
                }
                reader.Read();
                if (index >= 0 && reader.TokenType == JsonTokenType.String)
                {
                    tags.Add(_labels[index], _values[index].Get(reader.GetString()));
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Malformed metadata is the request's problem, not the metric's: the labels read so far stay.
        }
    }
}
