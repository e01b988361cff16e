/**
 * The most common passwords of public breach analyses (RockYou, NordPass and NCSC top lists),
 * lower case. The policy also strips trailing digits and symbols before looking a password up,
 * so "Password123456!" counts as "password".
 */
const list = `
123456 password 123456789 12345678 12345 qwerty abc123 football 1234567 monkey 111111 letmein 1234 1234567890
dragon baseball sunshine iloveyou trustno1 princess adobe123 123123 welcome login admin solo 1q2w3e4r master
666666 photoshop 1qaz2wsx qwertyuiop ashley mustang 121212 starwars 654321 bailey access flower 555555 passw0rd
shadow lovely 7777777 michael !@#$%^&* jesus password1 superman hello charlie 888888 696969 hottie freedom aa123456
qazwsx ninja azerty loveme whatever donald batman zaq1zaq1 000000 qwerty123 123qwe killer jordan jennifer hunter
buster soccer harley andrew tigger joshua pepper 2000 robert daniel thomas hockey ranger george computer michelle
jessica pepper1 zxcvbnm zxcvbn asdfgh asdfghjkl asdf 1q2w3e 1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4 q1w2e3r4t5 q1w2e3r4t5y6
qwe123 qweasd qweasdzxc qazwsxedc 1qazxsw2 zaq12wsx abcd1234 abcdef abcdefg abcdefgh abcdefghij abcdefghijkl
letmein1 welcome1 admin123 administrator root toor changeme changeit default guest test test123 testing secret
secret123 p@ssw0rd p@ssword pa55word pa$$word passwort motdepasse contrasena senha parola wachtwoord haslo
iloveu iloveyou1 lovelove love123 sweetheart babygirl princess1 angel angel1 beautiful butterfly friends family
summer winter spring autumn monday sunday january football1 baseball1 soccer1 basketball liverpool arsenal chelsea
manchester barcelona realmadrid juventus cowboys yankees eagles steelers dallas tennis golfer hockey1 jordan23
michael1 charlie1 thomas1 robert1 daniel1 jessica1 ashley1 nicole matthew anthony joseph william chocolate
cookie banana orange apple cheese pizza coffee money money1 dollar rich lucky lucky7 blessed jesus1 christ
godisgood trinity matrix killer1 dragon1 monkey1 shadow1 master1 mustang1 superman1 batman1 spiderman ironman
pokemon naruto minecraft fortnite roblox starwars1 hello123 hello1 helloworld letmein123 welcome123 qwerty1
qwerty12 qwerty1234 qwertyuiop1 asdf1234 asdfasdf zxcvbnm1 1234qwer 12qwaszx 1qaz2wsx3edc 123abc abc12345
a123456 a1b2c3 a1b2c3d4 aaaaaa aaaaaaaa 11111111 00000000 12341234 123123123 112233 11223344 121314 131313
147258 147258369 159753 159357 192837465 246810 2580 258456 321321 456789 789456 789456123 852456 963852741
987654321 9876543210 0987654321 1111111111 1234512345 123456123456 1234567891 12345678910 123456789a
password12 password123 password1234 password! passwordpassword pass pass123 pass1234 pass12345 passpass
mypassword newpassword oldpassword yourpassword thepassword nopassword passwd password01 password2
letmeinnow opensesame access14 secure security trustme trustnoone iamgod godmode private confidential
computer1 internet server linux windows ubuntu oracle mysql postgres database sql system system32 office
microsoft google facebook twitter instagram youtube amazon netflix spotify apple123 samsung nokia iphone
qwertz qwertzuiop ytrewq poiuytrewq mnbvcxz lkjhgfdsa 1qw23er4 zaq1xsw2 1q1q1q1q qaz123 wsx123 xsw21qaz
`

export const commonPasswords: ReadonlySet<string> = new Set(list.split(/\s+/).filter((w) => w !== ''))
