import Testing

@testable import SigV4

@Suite struct CredentialsTests {
    @Test func printingNeverShowsTheSecretOrToken() {
        let credentials = SigV4Credentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            sessionToken: "FQoGZXIvYXdzEXAMPLETOKEN")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, String(reflecting: credentials), "\(credentials)", dumped] {
            #expect(text.contains("AKIDEXAMPLE"))
            #expect(!text.contains("wJalrXUtnFEMI"))
            #expect(!text.contains("FQoGZXIvYXdz"))
        }
    }

    @Test func emptySessionTokenCountsAsNone() {
        #expect(!SigV4Credentials(accessKeyID: "a", secretAccessKey: "b", sessionToken: "").hasSessionToken)
        #expect(SigV4Credentials(accessKeyID: "a", secretAccessKey: "b", sessionToken: "t").hasSessionToken)
    }
}
