using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Switchyard.Core.Requests;

/// <summary>The few facts the gateway needs from a JSON body, read with one forward-only pass and no tree.</summary>
/// <remarks>
/// The same pass refuses what JSON syntax allows but the rest of the gateway cannot handle: bytes that are not UTF-8, a key that
/// occurs twice in one object, and an escaped UTF-16 surrogate without its partner. Each of these would otherwise surface late,
/// as a 500, wherever the body is first turned into a tree or a string (override_params, translation, logs).
/// </remarks>
public readonly record struct RequestBodyFacts(bool IsValidJson, bool IsObject, string? Model, bool Stream, string? Error)
{
    // System.Text.Json's default, stated so the per-depth arrays below can be sized from it.
    private const int MaxDepth = 64;

    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = MaxDepth };

    public static RequestBodyFacts Read(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return Invalid("the request body is empty; a JSON object is required");
        }
        // One vectorised pass up front: Utf8JsonReader does not check the bytes inside the strings it reads past.
        if (!Utf8.IsValid(body))
        {
            return Invalid($"the request body is not valid UTF-8 ({DescribeInvalidUtf8(body)})");
        }
        var reader = new Utf8JsonReader(body, ReaderOptions);
        var keys = new KeyTracker();
        try
        {
            if (!reader.Read())
            {
                return Invalid("the request body is empty; a JSON object is required");
            }
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                return new(true, false, null, false, "the request body must be a JSON object");
            }
            keys.Open(0);
            string? model = null;
            var stream = false;
            // The top-level member whose value the next token is, if it is one the gateway reads.
            var pending = Member.None;
            while (reader.Read())
            {
                var member = pending;
                pending = Member.None;
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        keys.Open(reader.CurrentDepth);
                        break;
                    case JsonTokenType.EndObject when reader.CurrentDepth > 0:
                        keys.Close(reader.CurrentDepth);
                        break;
                    case JsonTokenType.EndObject when reader.CurrentDepth == 0:
                        // Anything after the top-level value is a syntax error a real API would reject too; Read throws for it.
                        if (reader.Read())
                        {
                            return new(false, true, model, stream, "unexpected content after the JSON object");
                        }
                        return new(true, true, model, stream, null);
                    case JsonTokenType.PropertyName:
                        if (reader.ValueIsEscaped && UnpairedSurrogate(reader.ValueSpan) is { } badName)
                        {
                            return Invalid($"a key at byte offset {reader.TokenStartIndex} contains an unpaired UTF-16 surrogate escape ({badName})");
                        }
                        if (!keys.Add(ref reader))
                        {
                            return Invalid($"the key \"{Shorten(reader.GetString()!)}\" occurs twice in one object (again at byte offset {reader.TokenStartIndex}); JSON keys must be unique");
                        }
                        if (reader.CurrentDepth == 1)
                        {
                            pending = reader.ValueTextEquals("model"u8) ? Member.Model : reader.ValueTextEquals("stream"u8) ? Member.Stream : Member.None;
                        }
                        break;
                    case JsonTokenType.String:
                        if (reader.ValueIsEscaped && UnpairedSurrogate(reader.ValueSpan) is { } badValue)
                        {
                            return Invalid($"a string at byte offset {reader.TokenStartIndex} contains an unpaired UTF-16 surrogate escape ({badValue})");
                        }
                        if (member == Member.Model)
                        {
                            model = reader.GetString();
                        }
                        break;
                    case JsonTokenType.True when member == Member.Stream:
                        stream = true;
                        break;
                }
            }
            return Invalid("the request body is not valid JSON (it ends before the object is closed)");
        }
        catch (JsonException ex)
        {
            return Invalid($"the request body is not valid JSON ({TrimMessage(ex.Message)})");
        }
        finally
        {
            keys.Dispose();
        }
    }

    private static RequestBodyFacts Invalid(string error) => new(false, false, null, false, error);

    private enum Member
    {
        None,
        Model,
        Stream,
    }

    /// <summary>Where the first invalid sequence starts and what it is; only called once a body is known to be invalid.</summary>
    internal static string DescribeInvalidUtf8(ReadOnlySpan<byte> body)
    {
        var offset = 0;
        var chars = ArrayPool<char>.Shared.Rent(4096);
        try
        {
            while (offset < body.Length)
            {
                var status = Utf8.ToUtf16(body[offset..], chars, out var read, out _, replaceInvalidSequences: false, isFinalBlock: true);
                offset += read;
                if (status is OperationStatus.InvalidData or OperationStatus.Done)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
        if (offset >= body.Length)
        {
            return "no invalid sequence found";
        }
        var tail = body[offset..];
        return IsTruncatedSequence(tail)
            ? $"the body ends inside a multi-byte sequence starting at byte offset {offset}"
            : $"invalid byte 0x{tail[0]:X2} at byte offset {offset}";
    }

    // A lead byte whose continuation bytes run past the end of the body, e.g. a body cut in the middle of "é".
    private static bool IsTruncatedSequence(ReadOnlySpan<byte> tail)
    {
        var lead = tail[0];
        var needed = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xC2 && lead <= 0xDF ? 2 : 0;
        if (needed == 0 || tail.Length >= needed)
        {
            return false;
        }
        for (var i = 1; i < tail.Length; i++)
        {
            if ((tail[i] & 0xC0) != 0x80)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The first <c>\uD800</c>-style escape in a raw JSON string that is half of a surrogate pair without the other half, or null.</summary>
    /// <remarks>Valid JSON syntax, but no valid Unicode: .NET cannot make a string of it, so reading it would throw wherever that happens first.</remarks>
    internal static string? UnpairedSurrogate(ReadOnlySpan<byte> raw)
    {
        var i = raw.IndexOf((byte)'\\');
        while (i >= 0 && i + 1 < raw.Length)
        {
            if (raw[i + 1] != (byte)'u' || !TryHex4(raw, i + 2, out var unit))
            {
                // Any other escape is two bytes long; skipping both keeps "\\u" (an escaped backslash, then 'u') from looking like \u.
                i = Next(raw, i + 2);
                continue;
            }
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (i + 7 < raw.Length && raw[i + 6] == (byte)'\\' && raw[i + 7] == (byte)'u' && TryHex4(raw, i + 8, out var low) && low is >= 0xDC00 and <= 0xDFFF)
                {
                    i = Next(raw, i + 12);
                    continue;
                }
                return $"\\u{unit:X4}";
            }
            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                return $"\\u{unit:X4}";
            }
            i = Next(raw, i + 6);
        }
        return null;

        static int Next(ReadOnlySpan<byte> raw, int from)
        {
            if (from >= raw.Length)
            {
                return -1;
            }
            var next = raw[from..].IndexOf((byte)'\\');
            return next < 0 ? -1 : from + next;
        }
    }

    private static bool TryHex4(ReadOnlySpan<byte> raw, int at, out int value)
    {
        value = 0;
        if (at + 4 > raw.Length)
        {
            return false;
        }
        for (var k = 0; k < 4; k++)
        {
            var c = raw[at + k];
            var digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (digit < 0)
            {
                return false;
            }
            value = value * 16 + digit;
        }
        return true;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    private static string TrimMessage(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }
        return cut > 0 ? message[..cut].TrimEnd(' ', '|') : message;
    }

    /// <summary>The keys seen in each open object, to find one that occurs twice; pooled buffers, so ordinary bodies allocate nothing.</summary>
    /// <remarks>
    /// Keys are kept as unescaped UTF-8 so <c>"a"</c> and <c>"\u0061"</c> are the same key. Objects are small, so a new key is compared with
    /// its siblings one by one; an object with more than <see cref="LinearLimit"/> keys switches to a hash set so a hostile one stays linear.
    /// </remarks>
    private struct KeyTracker : IDisposable
    {
        private const int LinearLimit = 32;

        private byte[]? _bytes;
        private (int Start, int Length)[]? _names;
        private int[]? _frameNames;
        private int[]? _frameBytes;
        private HashSet<string>?[]? _sets;
        private int _nameCount;
        private int _byteCount;

        /// <summary>Starts the key list of an object whose start token is at <paramref name="depth"/>.</summary>
        public void Open(int depth)
        {
            _frameNames ??= ArrayPool<int>.Shared.Rent(MaxDepth + 2);
            _frameBytes ??= ArrayPool<int>.Shared.Rent(MaxDepth + 2);
            _frameNames[depth] = _nameCount;
            _frameBytes[depth] = _byteCount;
            if (_sets is not null)
            {
                _sets[depth] = null;
            }
        }

        /// <summary>Forgets the keys of the object ending at <paramref name="depth"/>, so its parent's next key is compared with the parent's alone.</summary>
        public void Close(int depth)
        {
            _nameCount = _frameNames![depth];
            _byteCount = _frameBytes![depth];
            if (_sets is not null)
            {
                _sets[depth] = null;
            }
        }

        /// <summary>Records the current property name; false when its object already has it.</summary>
        public bool Add(ref Utf8JsonReader reader)
        {
            // A property name sits one level below the start token of its object.
            var depth = reader.CurrentDepth - 1;
            var raw = reader.ValueSpan;
            Span<byte> scratch = raw.Length <= 256 ? stackalloc byte[raw.Length] : new byte[raw.Length];
            var name = reader.ValueIsEscaped ? scratch[..reader.CopyString(scratch)] : raw;

            var set = _sets?[depth];
            if (set is not null)
            {
                return set.Add(Encoding.UTF8.GetString(name));
            }
            var first = _frameNames![depth];
            for (var i = first; i < _nameCount; i++)
            {
                var (start, length) = _names![i];
                if (name.SequenceEqual(_bytes.AsSpan(start, length)))
                {
                    return false;
                }
            }
            if (_nameCount - first >= LinearLimit)
            {
                _sets ??= new HashSet<string>?[MaxDepth + 2];
                set = new HashSet<string>(StringComparer.Ordinal);
                for (var i = first; i < _nameCount; i++)
                {
                    set.Add(Encoding.UTF8.GetString(_bytes.AsSpan(_names![i].Start, _names[i].Length)));
                }
                set.Add(Encoding.UTF8.GetString(name));
                _sets[depth] = set;
                return true;
            }
            Append(name);
            return true;
        }

        private void Append(ReadOnlySpan<byte> name)
        {
            if (_names is null || _nameCount == _names.Length)
            {
                Grow(ref _names, _nameCount, 16);
            }
            if (_bytes is null || _byteCount + name.Length > _bytes.Length)
            {
                Grow(ref _bytes, _byteCount, Math.Max(256, _byteCount + name.Length));
            }
            name.CopyTo(_bytes.AsSpan(_byteCount));
            _names![_nameCount++] = (_byteCount, name.Length);
            _byteCount += name.Length;
        }

        private static void Grow<T>(ref T[]? array, int used, int minimum)
        {
            var bigger = ArrayPool<T>.Shared.Rent(Math.Max(minimum, (array?.Length ?? 0) * 2));
            if (array is not null)
            {
                array.AsSpan(0, used).CopyTo(bigger);
                ArrayPool<T>.Shared.Return(array);
            }
            array = bigger;
        }

        public void Dispose()
        {
            if (_bytes is not null)
            {
                ArrayPool<byte>.Shared.Return(_bytes);
            }
            if (_names is not null)
            {
                ArrayPool<(int, int)>.Shared.Return(_names);
            }
            if (_frameNames is not null)
            {
                ArrayPool<int>.Shared.Return(_frameNames);
            }
            if (_frameBytes is not null)
            {
                ArrayPool<int>.Shared.Return(_frameBytes);
            }
        }
    }
}
