import Foundation
import GrantsCore
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Reads a codelist file with Foundation's XML parser, independently of the script that compiled it in.
final class CodelistReader: NSObject, XMLParserDelegate {
    private(set) var items: [IATICodelist.Item] = []
    private var code = ""
    private var name: String?
    private var withdrawn = false
    private var text = ""
    private var inName = false
    private var englishNarrative = false

    static func read(_ url: URL) throws -> [IATICodelist.Item] {
        let reader = CodelistReader()
        let parser = try #require(XMLParser(contentsOf: url))
        parser.delegate = reader
        #expect(parser.parse(), "\(url.lastPathComponent): \(String(describing: parser.parserError))")
        return reader.items
    }

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        text = ""
        switch element {
        case "codelist-item":
            code = ""
            name = nil
            withdrawn = attributes["status"] == "withdrawn"
        case "name": inName = true
        case "narrative": englishNarrative = inName && name == nil && attributes["xml:lang"] == nil
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        switch element {
        case "code": code = text
        case "name": inName = false
        case "narrative" where englishNarrative:
            name = text
            englishNarrative = false
        case "codelist-item": items.append(IATICodelist.Item(code: code, name: name ?? "", withdrawn: withdrawn))
        default: break
        }
    }
}

@Suite("IATI codelists")
struct CodelistTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Codelists/iati")
        .standardized

    @Test func compiledCopyEqualsTheXML() throws {
        let countries = try CodelistReader.read(Self.folder.appendingPathComponent("Country.xml"))
        let sectors = try CodelistReader.read(Self.folder.appendingPathComponent("Sector.xml"))
        #expect(countries.count > 240 && sectors.count > 300)
        #expect(countries == IATICodelist.country.items, "run Scripts/embed-codelists after changing Codelists/")
        #expect(sectors == IATICodelist.sector.items, "run Scripts/embed-codelists after changing Codelists/")
    }

    @Test(arguments: ["SE", "KE", "ZM", "ZW", "TZ", "UG", "MW", "ZA", "XK"])
    func knownCountries(_ code: String) {
        #expect(IATICodelist.country.problem(code, at: "country") == nil)
    }

    @Test(arguments: ["XX", "QQ", "ZZ", "se", "S", "SWE", "", "AN"])
    func refusedCountries(_ code: String) throws {
        let problem = try #require(IATICodelist.country.problem(code, at: "partners[0].country"))
        #expect(problem.location == "partners[0].country")
        #expect(problem.message.contains("Country codelist"))
    }

    @Test func aWithdrawnCodeIsKnownButRefusedForNewData() throws {
        let antilles = try #require(IATICodelist.country["AN"])
        #expect(antilles.withdrawn)
        #expect(IATICodelist.country.problem("AN", at: "country")?.message.contains("withdrawn") == true)
        let sector = try #require(IATICodelist.sector["15120"])
        #expect(sector.withdrawn)
        #expect(IATICodelist.sector.problem("15120", at: "dac_sector")?.message.contains("withdrawn") == true)
    }

    @Test(arguments: ["15150", "15112", "15170", "12110"])
    func knownSectors(_ code: String) {
        #expect(IATICodelist.sector.problem(code, at: "dac_sector") == nil)
    }

    @Test(arguments: ["99999", "1515", "151500", "151", "abcde", "15150 "])
    func refusedSectors(_ code: String) {
        #expect(IATICodelist.sector.problem(code, at: "dac_sector")?.location == "dac_sector")
    }

    @Test func organisationsAndThemesAreCheckedAgainstTheLists() {
        let places = { (problems: [Problem]) in Set(problems.map(\.location)) }
        #expect(NewOrganisation(name: "Kisumu County", country: "KE").problems(at: "").isEmpty)
        #expect(places(NewOrganisation(name: "Nowhere", country: "XX").problems(at: "partners[0].")) == ["partners[0].country"])
        #expect(places(NewOrganisation(name: "A|B", country: "KE").problems(at: "")) == ["name"])
        #expect(Theme(code: "t", nameSv: "a", nameEn: "b", dacSector: "15150").problems(at: "").isEmpty)
        #expect(
            places(Theme(code: "t", nameSv: "a", nameEn: "b", dacSector: "15120").problems(at: "themes[0].")) == ["themes[0].dac_sector"])
        #expect(places(Theme(code: "a|b", nameSv: "a", nameEn: "b").problems(at: "")) == ["code"])
    }
}
