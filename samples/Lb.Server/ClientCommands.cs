using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lb.Core.Json;
using Lb.Core.Validation;

namespace Lb.Server;

/// <summary>Commands that talk to a running node's admin API (and <c>config validate</c>, which runs locally).</summary>
internal static class ClientCommands
{
    private static Option<string> DashboardOption() => new("--dashboard")
    {
        Description = "Admin API base URL of the node",
        DefaultValueFactory = _ => "http://localhost:9090",
    };

    private static Option<string?> TokenOption() => new("--token")
    {
        Description = "Admin bearer token (default: $LB_ADMIN_TOKEN)",
    };

    public static Command Config()
    {
        var config = new Command("config", "Read, write, validate and explain the proxy configuration.");

        var dashboard = DashboardOption();
        var token = TokenOption();
        var get = new Command("get", "Print the node's configuration (GET /api/config).") { dashboard, token };
        get.SetAction((r, ct) => SendAsync(r.GetValue(dashboard)!, r.GetValue(token), HttpMethod.Get, "/api/config", null, ct));
        config.Add(get);

        var putDashboard = DashboardOption();
        var putToken = TokenOption();
        var putFile = new Argument<string>("file") { Description = "JSON file with {routes, upstream_pools}; '-' reads standard input" };
        var ifMatch = new Option<long?>("--if-version") { Description = "Only apply if the node is still at this version (optimistic concurrency)" };
        var put = new Command("put", "Replace the whole configuration (PUT /api/config).") { putFile, putDashboard, putToken, ifMatch };
        put.SetAction(async (r, ct) =>
        {
            var body = await ReadInputAsync(r.GetValue(putFile)!, ct);
            if (body is null)
            {
                return Cli.Failed;
            }
            var version = r.GetValue(ifMatch);
            return await SendAsync(r.GetValue(putDashboard)!, r.GetValue(putToken), HttpMethod.Put, "/api/config", body, ct,
                version is { } v ? $"\"{v}\"" : null);
        });
        config.Add(put);

        var validateFile = new Argument<string>("file") { Description = "JSON file to check; '-' reads standard input" };
        var validate = new Command("validate", "Check a configuration file locally and list every problem with its field path.") { validateFile };
        validate.SetAction(async (r, ct) =>
        {
            var body = await ReadInputAsync(r.GetValue(validateFile)!, ct);
            var file = r.GetValue(validateFile)!;
            return body is null ? Cli.Failed : ValidateLocally(body, file == "-" ? "standard input" : file);
        });
        config.Add(validate);

        var explainDashboard = DashboardOption();
        var explainToken = TokenOption();
        var host = new Option<string>("--host") { Description = "Request Host", Required = true };
        var path = new Option<string>("--path") { Description = "Request path", DefaultValueFactory = _ => "/" };
        var explain = new Command("explain", "Show which route a request would take and why (GET /api/explain).") { host, path, explainDashboard, explainToken };
        explain.SetAction((r, ct) => SendAsync(r.GetValue(explainDashboard)!, r.GetValue(explainToken), HttpMethod.Get,
            $"/api/explain?host={Uri.EscapeDataString(r.GetValue(host)!)}&path={Uri.EscapeDataString(r.GetValue(path)!)}", null, ct));
        config.Add(explain);

        var reloadDashboard = DashboardOption();
        var reloadToken = TokenOption();
        var reload = new Command("reload", "Make a node started with 'serve --config FILE' re-read FILE (as SIGHUP does).") { reloadDashboard, reloadToken };
        reload.SetAction((r, ct) => SendAsync(r.GetValue(reloadDashboard)!, r.GetValue(reloadToken), HttpMethod.Post, "/api/config/reload", [], ct));
        config.Add(reload);

        var importFile = new Argument<string>("file") { Description = "haproxy.cfg to translate; '-' reads standard input" };
        var import = new Command("import", "Translate a haproxy.cfg into an Lb configuration: JSON on standard output (input for 'config put'), "
            + "notes on standard error; exit 1 when something that affects routing or balancing could not be translated.") { importFile };
        import.SetAction(async (r, ct) =>
        {
            var file = r.GetValue(importFile)!;
            var body = await ReadInputAsync(file, ct);
            return body is null ? Cli.Usage : Import.ImportCommand.Run(System.Text.Encoding.UTF8.GetString(body), file == "-" ? "stdin" : file);
        });
        config.Add(import);
        return config;
    }

    public static Command Cluster()
    {
        var cluster = new Command("cluster", "Cluster lifecycle: status, bootstrap, join, remove.");

        var dashboard = DashboardOption();
        var token = TokenOption();
        var status = new Command("status", "Print the node's cluster state (GET /api/node/cluster-status).") { dashboard, token };
        status.SetAction((r, ct) => SendAsync(r.GetValue(dashboard)!, r.GetValue(token), HttpMethod.Get, "/api/node/cluster-status", null, ct));
        cluster.Add(status);

        var bDashboard = DashboardOption();
        var bToken = TokenOption();
        var nodeId = new Option<string>("--node-id") { Description = "This node's id", Required = true };
        var raftBind = new Option<string?>("--raft-bind") { Description = "Raft bind address host:port" };
        var raftAdvertise = new Option<string>("--raft-advertise") { Description = "Raft address other nodes use, host:port", Required = true };
        var vipInterface = new Option<string?>("--vip-interface") { Description = "Interface that carries the VIP on this node" };
        var vipAddress = new Option<string?>("--vip-address") { Description = "Cluster VIP, IPv4 CIDR (e.g. 10.0.0.100/24)" };
        var heartbeat = new Option<string?>("--raft-heartbeat-timeout") { Description = "Follower wait without leader contact before it campaigns (Go duration; default 250ms)" };
        var election = new Option<string?>("--raft-election-timeout") { Description = "Upper end of the randomised election wait (default 280ms)" };
        var lease = new Option<string?>("--raft-leader-lease-timeout") { Description = "How long a leader may miss its majority before stepping down (default 200ms)" };
        var commit = new Option<string?>("--raft-commit-timeout") { Description = "Shown only (default 50ms)" };
        var bootstrap = new Command("bootstrap", "Make this node a one-node cluster seeded with its current configuration.")
            { nodeId, raftBind, raftAdvertise, vipInterface, vipAddress, heartbeat, election, lease, commit, bDashboard, bToken };
        bootstrap.SetAction(async (r, ct) =>
        {
            if (r.GetValue(vipAddress) is not null && r.GetValue(vipInterface) is null)
            {
                await Console.Error.WriteLineAsync("--vip-interface is required when --vip-address is set");
                return Cli.Usage;
            }
            var body = new JsonObject
            {
                ["node_id"] = r.GetValue(nodeId),
                ["raft_advertise_addr"] = r.GetValue(raftAdvertise),
            };
            if (r.GetValue(raftBind) is { } bind)
            {
                body["raft_bind_addr"] = bind;
            }
            if (r.GetValue(vipInterface) is { } iface)
            {
                body["vip_interface"] = iface;
            }
            if (r.GetValue(vipAddress) is { } vip)
            {
                body["vip"] = new JsonObject { ["address"] = vip };
            }
            var timing = new JsonObject();
            foreach (var (option, field) in new[] { (heartbeat, "heartbeat_timeout"), (election, "election_timeout"), (lease, "leader_lease_timeout"), (commit, "commit_timeout") })
            {
                if (r.GetValue(option) is { } value)
                {
                    timing[field] = value;
                }
            }
            if (timing.Count > 0)
            {
                body["raft_timing"] = timing;
            }
            return await SendAsync(r.GetValue(bDashboard)!, r.GetValue(bToken), HttpMethod.Post, "/api/cluster/bootstrap", Encoding.UTF8.GetBytes(body.ToJsonString()), ct, success: "cluster bootstrapped");
        });
        cluster.Add(bootstrap);

        var jDashboard = DashboardOption();
        var jToken = TokenOption();
        var jNodeId = new Option<string>("--node-id") { Description = "This node's id", Required = true };
        var jBind = new Option<string?>("--raft-bind") { Description = "Raft bind address host:port" };
        var jAdvertise = new Option<string>("--raft-advertise") { Description = "Raft address other nodes use, host:port", Required = true };
        var jInterface = new Option<string?>("--vip-interface") { Description = "Interface that carries the VIP on this node" };
        var peers = new Option<string[]>("--peer") { Description = "Admin URL of a cluster member (repeatable)", Required = true, AllowMultipleArgumentsPerToken = false };
        var force = new Option<bool>("--force") { Description = "Join even though this node holds a configuration (it is replaced by the cluster's)" };
        var join = new Command("join", "Join an existing cluster through one of its members.") { jNodeId, jBind, jAdvertise, jInterface, peers, force, jDashboard, jToken };
        join.SetAction(async (r, ct) =>
        {
            var body = new JsonObject
            {
                ["node_id"] = r.GetValue(jNodeId),
                ["raft_advertise_addr"] = r.GetValue(jAdvertise),
                ["peers"] = new JsonArray([.. r.GetValue(peers)!.Select(p => (JsonNode?)JsonValue.Create(p))]),
            };
            if (r.GetValue(jBind) is { } bind)
            {
                body["raft_bind_addr"] = bind;
            }
            if (r.GetValue(jInterface) is { } iface)
            {
                body["vip_interface"] = iface;
            }
            if (r.GetValue(force))
            {
                body["force"] = true;
            }
            return await SendAsync(r.GetValue(jDashboard)!, r.GetValue(jToken), HttpMethod.Post, "/api/node/join-cluster", Encoding.UTF8.GetBytes(body.ToJsonString()), ct, success: "node joined cluster");
        });
        cluster.Add(join);

        var rDashboard = DashboardOption();
        var rToken = TokenOption();
        var rNodeId = new Option<string>("--node-id") { Description = "Id (or Raft address) of the member to remove", Required = true };
        var remove = new Command("remove", "Remove a member from the cluster (send it to the leader's admin API); the removed node stops campaigning.") { rNodeId, rDashboard, rToken };
        remove.SetAction((r, ct) => SendAsync(r.GetValue(rDashboard)!, r.GetValue(rToken), HttpMethod.Post, "/api/cluster/remove",
            Encoding.UTF8.GetBytes(new JsonObject { ["node_id"] = r.GetValue(rNodeId) }.ToJsonString()), ct, success: "node removed from cluster"));
        cluster.Add(remove);
        return cluster;
    }

    /// <summary>One problem, the same shape for local validation and API answers: <c>  field: message [code] - hint</c>.</summary>
    internal static void PrintProblem(string? field, string message, string? code, string? hint) =>
        Console.Error.WriteLine($"  {(string.IsNullOrEmpty(field) ? "" : field + ": ")}{message}{(string.IsNullOrEmpty(code) ? "" : $" [{code}]")}{(string.IsNullOrEmpty(hint) ? "" : $" - {hint}")}");

    private static int ValidateLocally(byte[] body, string source)
    {
        var parsed = DesiredStateJson.ParseConfigDocument(body);
        if (!parsed.Succeeded)
        {
            Console.Error.WriteLine($"lb: {source}: {parsed.Message}");
            PrintProblem(parsed.Field, parsed.Detail ?? "", null, null);
            return Cli.Failed;
        }
        // Offline, the built-in policies judge algorithms; a node with custom policies accepts their names too (POST /api/config/validate).
        var result = DesiredStateValidator.Validate(parsed.Value!.Config, algorithms: Lb.Balancing.LoadBalancingPolicies.CreateDefault());
        if (result.IsValid)
        {
            Console.WriteLine($"valid ({parsed.Value.Config.Routes.Count} routes, {parsed.Value.Config.UpstreamPools.Count} pools, content hash {DesiredStateJson.ContentHash(parsed.Value.Config)})");
            return Cli.Ok;
        }
        Console.Error.WriteLine($"lb: {source}: {result.Errors.Count} problem{(result.Errors.Count == 1 ? "" : "s")} found");
        foreach (var error in result.Errors)
        {
            PrintProblem(error.Field, error.Message, error.Code, error.Hint);
        }
        return Cli.Failed;
    }

    private static async Task<byte[]?> ReadInputAsync(string file, CancellationToken ct)
    {
        try
        {
            if (file == "-")
            {
                using var stdin = Console.OpenStandardInput();
                using var buffer = new MemoryStream();
                await stdin.CopyToAsync(buffer, ct);
                return buffer.ToArray();
            }
            return await File.ReadAllBytesAsync(file, ct);
        }
        catch (IOException ex)
        {
            await Console.Error.WriteLineAsync($"cannot read {file}: {ex.Message}");
            return null;
        }
    }

    private static async Task<int> SendAsync(string dashboard, string? token, HttpMethod method, string path, byte[]? body, CancellationToken ct, string? ifMatch = null, string? success = null)
    {
        if (!Uri.TryCreate(dashboard, UriKind.Absolute, out var baseUri) || (baseUri.Scheme != "http" && baseUri.Scheme != "https"))
        {
            await Console.Error.WriteLineAsync($"--dashboard '{dashboard}' must be an absolute http(s) URL such as http://localhost:9090");
            return Cli.Usage;
        }
        var basePath = baseUri.AbsolutePath.TrimEnd('/');
        var url = new Uri($"{baseUri.Scheme}://{baseUri.Authority}{basePath}{path}");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(method, url);
        token ??= Environment.GetEnvironmentVariable("LB_ADMIN_TOKEN");
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"cannot reach {url}: {ex.Message}");
            return Cli.Failed;
        }
        using (response)
        {
            var text = (await response.Content.ReadAsStringAsync(ct)).Trim();
            if (!response.IsSuccessStatusCode)
            {
                PrintApiError($"lb: dashboard API returned {(int)response.StatusCode} {response.ReasonPhrase}", text);
                return Cli.Failed;
            }
            Console.WriteLine(success ?? text);
            return Cli.Ok;
        }
    }

    /// <summary>The API's error object as one headline and one line per field problem; a body that is not one is shown as text.</summary>
    private static void PrintApiError(string headline, string body)
    {
        JsonNode? error = null;
        try
        {
            error = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
        }
        if (error is not JsonObject || error["message"] is null)
        {
            Console.Error.WriteLine(body.Length == 0 ? headline : $"{headline}: {(body.Length > 500 ? body[..500] + "…" : body)}");
            return;
        }
        var code = (string?)error["code"];
        Console.Error.WriteLine($"{headline}: {(string?)error["message"]}{(string.IsNullOrEmpty(code) ? "" : $" [{code}]")}");
        if (error["errors"] is JsonArray problems)
        {
            foreach (var e in problems)
            {
                PrintProblem((string?)e?["field"], (string?)e?["message"] ?? "", (string?)e?["code"], (string?)e?["hint"]);
            }
        }
    }
}
