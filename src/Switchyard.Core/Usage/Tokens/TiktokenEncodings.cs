using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Switchyard.Core.Usage.Tokens;

/// <summary>The two tiktoken encodings the gateway counts with, each loaded once, on first use, from its NuGet data package.</summary>
/// <remarks>
/// The tokenizers are built without special tokens on purpose. <c>TiktokenTokenizer.CreateForEncoding</c> turns text such as
/// <c>&lt;|endoftext|&gt;</c> into its one special id, but a provider encodes message content as ordinary text (several tokens), and
/// that is what a prompt costs. So the vocabulary is read from the data package and paired with a pre-tokenizer that knows no
/// special tokens (and splits by code point: see <see cref="CodePointPreTokenizer"/>). A <see cref="TiktokenTokenizer"/> is safe
/// to share between threads (its merge cache locks), so one instance per encoding serves every request.
/// </remarks>
internal static partial class TiktokenEncodings
{
    public const string O200kBase = "o200k_base";
    public const string Cl100kBase = "cl100k_base";

    private static readonly Lazy<TiktokenTokenizer> O200k = new(() => Load("Microsoft.ML.Tokenizers.Data.O200kBase", "o200k_base.tiktoken.deflate", O200kPattern()));
    private static readonly Lazy<TiktokenTokenizer> Cl100k = new(() => Load("Microsoft.ML.Tokenizers.Data.Cl100kBase", "cl100k_base.tiktoken.deflate", Cl100kPattern()));

    /// <summary>The tokenizer of <paramref name="encoding"/> (<see cref="O200kBase"/> or <see cref="Cl100kBase"/>).</summary>
    public static TiktokenTokenizer Get(string encoding) => encoding switch
    {
        O200kBase => O200k.Value,
        Cl100kBase => Cl100k.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "unknown encoding"),
    };

    // The data packages expose no public type, only the compressed vocabulary as a manifest resource; Microsoft.ML.Tokenizers itself
    // finds it the same way. The versions are pinned, and the reference-encoding tests fail if a new version moves it.
    private static TiktokenTokenizer Load(string assemblyName, string resource, Regex pattern)
    {
        var assembly = Assembly.Load(assemblyName);
        using var compressed = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"{assemblyName} has no resource '{resource}'; was the tokenizer data package upgraded?");
        using var vocabulary = new DeflateStream(compressed, CompressionMode.Decompress);
        return TiktokenTokenizer.Create(vocabulary, new CodePointPreTokenizer(pattern), normalizer: null, specialTokens: null);
    }

    // The split patterns OpenAI publishes with tiktoken for each encoding. .NET has no possessive quantifiers, so cl100k's
    // "x?+", "x++", "x{1,3}+" and "x*+" are written as the equivalent atomic groups.
    [GeneratedRegex(@"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")]
    private static partial Regex O200kPattern();

    [GeneratedRegex(@"'(?i:[sdmt]|ll|ve|re)|(?>[^\r\n\p{L}\p{N}]?)(?>\p{L}+)|(?>\p{N}{1,3})| ?(?>[^\s\p{L}\p{N}]+)(?>[\r\n]*)|(?>\s+)$|\s*[\r\n]|\s+(?!\S)|\s")]
    private static partial Regex Cl100kPattern();
}
