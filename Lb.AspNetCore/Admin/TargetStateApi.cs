using System.Buffers;
using System.Text.Json;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Admin;

/// <summary>
/// <c>PUT /api/pools/{pool}/targets/{address}/state</c> with <c>{"state": "ready|drain|maint"}</c>: a convenience over
/// <c>PUT /api/config</c> that changes one upstream's state in the desired state with a compare-and-set write (retried
/// when another write got in first), so the change is validated, versioned and replicated like any other.
/// </summary>
internal static class TargetStateApi
{
    public const string Prefix = "/api/pools/";
    private const string Suffix = "/state";
    private const string Targets = "/targets/";
    private const int Attempts = 5;

    public static bool Matches(string path) =>
        path.StartsWith(Prefix, StringComparison.Ordinal) && path.EndsWith(Suffix, StringComparison.Ordinal) && path.Contains(Targets, StringComparison.Ordinal);

    public static async Task HandleAsync(HttpContext context, IDesiredStateStore store, Func<HttpContext, Task<ArrayBufferWriter<byte>?>> readBody, Func<long, CancellationToken, Task> waitServed)
    {
        var path = context.Request.Path.Value!;
        var middle = path[Prefix.Length..^Suffix.Length];
        var split = middle.LastIndexOf(Targets, StringComparison.Ordinal);
        var pool = split < 0 ? "" : middle[..split];
        var address = split < 0 ? "" : middle[(split + Targets.Length)..];
        if (!HttpMethods.IsPut(context.Request.Method))
        {
            await AdminResponses.ErrorAsync(context, 405, "method not allowed");
            return;
        }
        var body = await readBody(context);
        if (body is null)
        {
            return;
        }
        var state = ReadState(body.WrittenSpan);
        if (state is not (TargetStates.Ready or TargetStates.Drain or TargetStates.Maint))
        {
            var meant = state is null ? null : TargetStates.Suggest(state);
            await AdminResponses.ErrorAsync(context, 400, "state must be one of: ready, drain, maint", "invalid_target_state",
                [new ApiFieldError("state", meant is null ? "send {\"state\": \"drain\"} (or ready, maint)" : $"did you mean '{meant}'?")]);
            return;
        }

        for (var attempt = 0; ; attempt++)
        {
            var current = store.Current;
            if (!current.State.Config.UpstreamPools.TryGetValue(pool, out var spec))
            {
                await AdminResponses.ErrorAsync(context, 404, $"upstream pool '{pool}' not found", "not_found",
                    [new ApiFieldError("pool", "use a pool id from GET /api/config")]);
                return;
            }
            var index = spec.Upstreams.ToList().FindIndex(u => string.Equals(u.Address, address, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                await AdminResponses.ErrorAsync(context, 404, $"pool '{pool}' has no upstream '{address}'", "not_found",
                    [new ApiFieldError("address", "use an address exactly as upstream_pools." + pool + ".upstreams lists it")]);
                return;
            }
            if (spec.Upstreams[index].EffectiveState == state)
            {
                await RespondAsync(context, pool, address, state, current.Version);
                return;
            }
            var upstreams = spec.Upstreams.ToArray();
            upstreams[index] = upstreams[index] with { State = state == TargetStates.Ready ? null : state };
            var pools = new SortedDictionary<string, UpstreamPoolSpec>(current.State.Config.UpstreamPools.ToDictionary(), StringComparer.Ordinal)
            {
                [pool] = spec with { Upstreams = upstreams },
            };
            var desired = current.State with { Config = current.State.Config with { UpstreamPools = pools } };
            var result = await store.PutAsync(desired, current.Version, ConfigHistoryApi.OriginOf(context, $"state {address} {state}"), context.RequestAborted);
            if (result.Status == StoreWriteStatus.Applied)
            {
                await waitServed(result.Current.Version, context.RequestAborted);
                context.Response.Headers.ETag = result.Current.ETag;
                await RespondAsync(context, pool, address, state, result.Current.Version);
                return;
            }
            if (result.Status != StoreWriteStatus.VersionConflict || attempt + 1 >= Attempts)
            {
                await WriteOutcome.FailureAsync(context, result, current.Version, WritePrecondition.BodyVersion);
                return;
            }
        }
    }

    private static string? ReadState(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("state", out var state) && state.ValueKind == JsonValueKind.String
                ? state.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Task RespondAsync(HttpContext context, string pool, string address, string state, long version) =>
        AdminResponses.WriteRawJsonAsync(context, 200, JsonSerializer.SerializeToUtf8Bytes(
            new TargetStateView(pool, address, state, version), AdminJsonContext.Relaxed.TargetStateView));
}

/// <summary>The answer of <c>PUT /api/pools/{pool}/targets/{address}/state</c>.</summary>
internal sealed record TargetStateView(string Pool, string Address, string State, long Version);
