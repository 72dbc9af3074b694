import Foundation
import Grants
import Hummingbird
import HummingbirdCore

/// The endpoints. Reads go through the library's read-only snapshots; the one write is attesting a
/// disbursement, which the library checks (four-eyes, state, award) and records with its actor in the audit log.
///
/// | Method and path | Answer |
/// | --- | --- |
/// | `GET /health` | 200 when the database answers and its schema is current, else 503 |
/// | `GET /rounds?programme=` | the rounds, newest first |
/// | `GET /rounds/{round}?programme=` | one round with its budget and totals |
/// | `GET /rounds/{round}/grants?programme=` | the round's grants |
/// | `GET /grants/{reference}?programme=` | one grant with its disbursements and amendments |
/// | `GET /reports/disbursements?format=&programme=&round=&from=&to=&status=&as_of=` | the export, streamed |
/// | `POST /disbursements/{id}/attest` with `{"actor": "…"}` | the attested disbursement |
struct GrantsRoutes: Sendable {
    let service: GrantsService
    let exportOptions: ExportOptions

    func add(to router: Router<BasicRequestContext>) {
        router.get("health", use: health)
        router.get("rounds", use: rounds)
        router.get("rounds/:round", use: round)
        router.get("rounds/:round/grants", use: grants)
        router.get("grants/:reference", use: grant)
        router.get("reports/disbursements", use: exportDisbursements)
        router.post("disbursements/:id/attest", use: attest)
    }

    @Sendable func health(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let status = try await service.migrationStatus()
        let behind = status.filter { $0.state == .pending || $0.state == .edited }.count
        struct Health: Encodable {
            let database: String
            let schema: String
        }
        return JSON.response(
            Health(database: "up", schema: behind == 0 ? "current" : "\(behind) migrations behind"),
            status: behind == 0 ? .ok : .serviceUnavailable
        )
    }

    @Sendable func rounds(_ request: Request, context: BasicRequestContext) async throws -> Response {
        JSON.response(try await service.rounds.list(programme: request.uri.queryParameters.string("programme")))
    }

    @Sendable func round(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("round")
        return JSON.response(try await service.rounds.get(name, programme: request.uri.queryParameters.string("programme")))
    }

    @Sendable func grants(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("round")
        let programme = request.uri.queryParameters.string("programme")
        // An unknown round is a 404, not an empty list.
        _ = try await service.rounds.get(name, programme: programme)
        return JSON.response(try await service.grants.list(round: name, programme: programme))
    }

    @Sendable func grant(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let reference = try context.parameters.require("reference")
        return JSON.response(try await service.grants.get(reference, programme: request.uri.queryParameters.string("programme")))
    }

    /// Streams the export as it is read: memory stays at a few 64 KiB chunks however many rows. An error before
    /// the first chunk (the database is down, a filter the server refuses) still gets its status code; one after
    /// it can only cut the response short, which the client sees as an incomplete body.
    @Sendable func exportDisbursements(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let format = try query.parse(
            "format", default: DisbursementFormat.csv, expected: DisbursementFormat.allCases.map(\.rawValue).joined(separator: ", ")
        ) { DisbursementFormat(rawValue: $0) }
        let filter = ReportFilter(
            programme: query.string("programme"),
            round: query.string("round"),
            from: try query.parse("from", expected: "a date, YYYY-MM-DD") { try? CalendarDate($0) },
            to: try query.parse("to", expected: "a date, YYYY-MM-DD") { try? CalendarDate($0) },
            status: try query.parse(
                "status", expected: DisbursementStatus.allCases.map(\.rawValue).joined(separator: ", ")
            ) { DisbursementStatus(rawValue: $0) },
            asOf: try query.parse("as_of", expected: "a date, YYYY-MM-DD") { try? CalendarDate($0) }
        )
        let chunks = try await service.reports.disbursementStream(filter, format: format, options: exportOptions)
        var headers: HTTPFields = [.contentType: format.contentType]
        headers[.contentDisposition] = "attachment; filename=\"disbursements.\(format.fileExtension)\""
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                for try await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            }
        )
    }

    struct Attestation: Decodable {
        /// Who attests. A real deployment takes this from its authentication, not from the body.
        let actor: String
    }

    @Sendable func attest(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self) else {
            throw GrantsError.invalidInput([Problem("path", "disbursement id must be a whole number")])
        }
        let body = try await request.decode(as: Attestation.self, context: context)
        do throws(GrantsError) {
            return JSON.response(try await service.disbursements.attest(id, actor: body.actor))
        } catch {
            // The library names its inputs by domain path (`actor`); this request carries them as body fields.
            guard error.code == .invalidInput else { throw error }
            throw GrantsError.invalidInput(error.problems.map { $0.relocated(to: "body." + $0.location) })
        }
    }
}

extension DisbursementFormat {
    var contentType: String {
        switch self {
        case .csv, .csvExcel: "text/csv; charset=utf-8"
        case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        case .json, .giving360: "application/json; charset=utf-8"
        case .sie: "text/plain; charset=IBM437"
        case .iati: "application/xml; charset=utf-8"
        }
    }

    var fileExtension: String {
        switch self {
        case .csv, .csvExcel: "csv"
        case .xlsx: "xlsx"
        case .json: "json"
        case .sie: "se"
        case .iati: "xml"
        case .giving360: "360giving.json"
        }
    }
}

extension FlatDictionary<Substring, Substring> {
    /// A query parameter's text; absent or empty is nil.
    func string(_ name: Substring) -> String? {
        guard let value = self[name], !value.isEmpty else { return nil }
        return String(value)
    }

    /// A query parameter read by `parse`; one `parse` refuses is a 422 naming the parameter and what it takes.
    func parse<T>(_ name: Substring, expected: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = string(name) else { return nil }
        guard let value = parse(text) else {
            throw GrantsError.invalidInput([Problem("query parameter \(name)", "\"\(text)\" is not \(expected)")])
        }
        return value
    }

    func parse<T>(_ name: Substring, default value: T, expected: String, _ parse: (String) -> T?) throws -> T {
        try self.parse(name, expected: expected, parse) ?? value
    }
}
