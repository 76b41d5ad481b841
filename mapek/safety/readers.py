"""Round 7's words for :mod:`mapek.safety.automated`: automated readers and their acts in the
languages the earlier lexicons lacked, written as data in one place.

Blind-8 and blind-9 (development data since their blind scores; ``RESULTS.injection.md``,
round 7) missed mostly one shape in some fifty languages: "<a program that reads this>: <an
act>". The structure was already a rule (``automated.find``); the words were not. The tuples
and strings here are alternatives of regular expressions (``automated`` joins them into its own
patterns, with word boundaries); words of scripts written without spaces (Thai, Khmer, Burmese,
Chinese, Japanese, Korean) are matched without word boundaries and kept apart. Not yet the one
act lexicon: ``injection`` and ``learned`` keep their own.
"""

from __future__ import annotations

__all__ = ["ACT", "ASSISTANT", "MACHINE", "READS", "SCRIPT_ACTS", "SCRIPT_READERS", "TOOL"]

MACHINE = (
    # a program, software, an app, automatic: a machine whatever its job
    r"programa\w*", r"programm[aei]\w*", r"programu", r"programie", r"programov\w*",
    r"програм\w*", r"программ\w*", r"бағдарлам\w*", r"ծրագր\w*", r"პროგრამ\w*",
    r"प्रोग्राम\w*", r"প্রোগ্রাম\w*", r"پروگرام", r"برنامه\w*", r"תוכנ\w*", r"ప్రోగ్రామ్\w*",
    r"software\w*", r"szoftver\w*", r"tarkvar\w*", r"ohjelm\w*", r"programvar\w*",
    r"մեքենա", r"dastur\w*", r"manhaja\w*", r"lojisyèl", r"aplikasi", r"aplikac\w*",
    r"aplicaci[óo]n\w*", r"aplicativo\w*", r"applicazion\w*",
    r"εφαρμογ\w*", r"ikoranabuhanga", r"uhlelo\w*", r"kuhlelo\w*",
    r"सॉफ्टवेयर", r"सोफ्टवेयर", r"सॉफ्टवेअर", r"સોફ્ટવેર", r"ਸੌਫਟਵੇਅਰ", r"மென்பொருள்\w*",
    r"ತಂತ್ರಾಂಶ\w*", r"సాఫ్ట్‌వేర్\w*", r"സോഫ്റ്റ്‌വെയർ\w*", r"මෘදුකාංග\w*",
    r"சாப்ட்வேர்", r"সফটওয়্যার\w*", r"ẹ̀rọ", r"ሶፍትዌር", r"ፕሮግራም\w*", r"የሚያዘጋጀው\s+ፕሮግራም",
    r"automatsk\w*", r"automaattis\w*", r"awtomati\w*", r"avtomat\w*", r"автомат\w*",
    r"outomaties\w*", r"otomatis", r"automatiz\w*", r"automatick\w*", r"automatinis\w*",
    r"automātisk\w*", r"sjálfvirk\w*", r"awtomatig", r"automatikus\w*", r"avtomatik\w*",
    r"avtomatlashtirilgan", r"ավտոմատ\w*", r"ავტომატ\w*", r"स्वचालित", r"স্বয়ংক্রিয়",
    r"தானியங்கி", r"ಸ್ವಯಂಚಾಲಿತ", r"స్వయంచాలక", r"ස්වයංක්‍රීය", r"ራስ-ሰር",
    r"бот\w*", r"bot(?:a|u|em|om|y|ów|ul|ului|ot|ok|ja|it|tia|ille|ti|ten)",
    r"botu", r"роботу?", r"ה?אוטומטי\w*", r"ה?דיגיטלי\w*", r"chatbot\w*", r"ربات\w*", r"ቦት",
    r"ਬੋਟ", r"బాట్",
    r"mesterséges\s+intelligenci\w*", r"yapay\s+zek[aâ]\w*", r"एआई",
    r"kecerdasan\s+buatan", r"intelixencia\s+artificial", r"intel·ligència\s+artificial",
    r"artificiële\s+intelligentie", r"inteligjenc\w*\s+artificial\w*",
)
"""Words that make a named reader a machine in a label ("Dla bota raportującego:",
"Kuhlelo olufingqa le ncwadi:", "alatu koji automatski odgovara:")."""

TOOL = (
    r"nástroj\w*", r"eszköz\w*", r"työkalu\w*", r"verktyg\w*", r"verktøy\w*", r"alat\w*",
    r"инструмент\w*", r"жүйе\w*", r"sistem\w*", r"система\w*", r"системі", r"sustav\w*",
    r"rendszer\w*", r"järjestelmä\w*", r"sisteem\w*", r"systemet", r"systemu", r"systému",
    r"chóras", r"system\w*", r"córas", r"modell\w*", r"modelul\w*", r"модел\w*",
    r"modeli\w*", r"modeliui", r"mudel\w*", r"சிஸ்டம்", r"சிஸ்டத்\w*",
    r"σύστημα\w*", r"συστήματ\w*", r"ל?ה?מערכת\w*", r"ל?ה?סוכן\w*", r"سیستم\w*", r"प्रणाली\w*",
)
"""A tool, system or model in the languages ``automated._MACHINE_NOUN`` lacked: a reader
when a machine word or an address ("Nota para o ...", "Ga ...") is there, or when the label
says what it does to this text (``READS``)."""

READS = (
    r"reads?|reading|summari[sz]\w*|process\w*|translat\w*|compil\w*|index\w*|review\w*|"
    r"evaluat\w*|scor\w*|rank\w*|generat\w*|handl\w*|manag\w*|pars\w*|"
    r"lee|leyendo|resum\w*|procesa\w*|traduc\w*|genera\w*|gestiona\w*|rexistra|"
    r"lit|traite|analyse|lê|processa|legge|elabora|riassume|"
    r"liest|verarbeite\w*|auswerte\w*|zusammenfass\w*|"
    r"leest|verwerkt|indexeert|samenvat\w*|"
    r"läser|leser|sammanfatt\w*|oppsummer\w*|"
    r"czyta\w*|przetwarza\w*|raportując\w*|generując\w*|podsumow\w*|"
    r"zpracováv\w*|vyhodnocuj\w*|čte|číta|spracúv\w*|"
    r"чита\w*|обрабатыва\w*|пересказ\w*|обробля\w*|уншиж|бағалайтын|оқитын|"
    r"olvas\w*|feldolgoz\w*|összefoglal\w*|lukee|käsittelee|tiivist\w*|"
    r"apibendrin\w*|skaito|apdoroja|kokkuvõt\w*|töötleb|loeb|"
    r"citește|procesează|rezum\w*|okuyan|işleyen|özetleyen|emal\s+edən|oxuyan|"
    r"boshqaradigan|o'qiydigan|irakurtzen|laburtzen|achoimre|léann|"
    r"nagbubuod|nagsumaryo|nagra-rank|ngringkes|merangkum|membaca|memproses|"
    r"đọc|tóm\s+tắt|xử\s+lý|inasoma|inayofupisha|akhriya|ke\s+tattara|"
    r"na-achịkọta|ń\s+ṣe\s+àkópọ̀|olufingqa|rikora\s+incamake|k\s+ap\s+tradui|"
    r"sy'n\s+prosesu|përkthen|lexon|përmbledh\w*|vertaalt|översätter|oversætter|sorterer|"
    r"sorterar|sorteert|indexeert|tradu\w*|prosess\w*|yang\s+membaca|"
    r"قراءة|يقرأ|يلخص|يعالج|می‌خواند|خلاصه|پردازش|پڑھ\w*|لینے\s+والے|"
    r"קורא|שמעבד\w*|שמסכם\w*|"
    r"वाले|वाला|वाली|والے|والا|ਵਾਲੇ|संसाधित|प्रोसेस\w*|पढ़\w*|पढ्ने|सार|संक्षेप\w*|वर्गीकरण|"
    r"जाँच\w*|চাঁছাই|ছাঁকাই|পড়\w*|"
    r"சுருக்க\w*|படிக்கும்|ಸಂಕ್ಷೇಪಿಸುವ|ఈ\s+పేజీని\s+చదివే|ചെയ്യുന്ന|സഹായിക്ക്|"
    r"સારાંશ|ਸਾਰ|සාරාංශ|ամփոփող|დამხმარე|ማጠቃለያ"
)
"""A reader's job on this text in its label ("Nástroj, ktorý vyhodnocuje tento prieskum:",
"Für den Kontakt-Assistenten", "the program compiling these evaluations")."""

ASSISTANT = (
    r"laguntzaile\w*", r"туслах\w*", r"köməkçi\w*", r"yordamchi\w*", r"pomočnik\w*",
    r"caawiyaha\w*", r"caawiye\w*", r"asisten", r"aðstoðar\w*", r"cynorthwy\w*",
    r"ndihmës\w*", r"асистент\w*", r"ל?ה?עוזר\w*", r"asistenc\w*", r"asystencie", r"umsizi",
    r"olùrànlọ́wọ́",
    r"օգնական\w*", r"დამხმარე", r"ረዳት", r"助手", r"सहायक\w*", r"सहाय्यक\w*", r"ਸਹਾਇਕ\w*",
    r"સહાયક\w*", r"সহায়ক\w*", r"సహాయక\w*",
    r"ಸಹಾಯಕ\w*", r"സഹായി\w*", r"உதவி\w*", r"සහායක\w*",
    r"assistente\w*", r"avustaja\w*", r"mataimaki", r"katulong", r"pembantu",
    r"hjemmeassistent\w*", r"kennisbank-assistent\w*", r"kontakt-assistent\w*",
    r"varausavustaja\w*", r"bókunarþjónn", r"bralni\s+pomočnik",
)
"""An assistant in more languages: a program when nothing says it is a person."""

ACT = (
    # English acts on a machine: run, install, unlock, trigger a step, save, follow, log
    r"run(?=\s+`)|execute|download|install|unlock|trigger|tick|whitelist|allowlist|save|"
    r"text\s+me|dm\s+me|log|set|list|make|" +
    # German infinitives as orders, Norwegian particle verbs, Spanish
    r"eintragen|geben|senden|schicken|löschen|überweisen|markieren|bestätigen|genehmigen|"
    r"lås\s+opp|slå\s+av|skru\s+av|concluye|afirma|dile|informa|"
    # Basque, Mongolian, Kazakh, Urdu, Persian
    r"esan|idatzi|bidali|ezabatu|onartu|ordaindu|aldatu|gehitu|markatu|jarri|"
    r"хэл\w*|бич\w*|илгээ\w*|захиал\w*|устга\w*|зөвшөөр\w*|"
    r"белгіле\w*|жаз\w*|жібер\w*|өшір\w*|төле\w*|бекіт\w*|өзгерт\w*|"
    r"بتاؤ|بتائیں|لکھو|لکھیں|بھیجو|بھیجیں|مانگ|بنویس|واریز|"
    # Russian, Ukrainian, Polish, Slovak, Slovenian, Serbian
    r"напиши|пиши|посоветуй|скажи|сделай|запомни|зміни|напиши|постав|змердж\w*|"
    r"odpowiedz|dołącz|napisz|wpisz|zapisz|"
    r"uveď|vynechaj|napíš|reci|pošlji|napiši|izbriši|plačaj|ukloni|obriši|plati|"
    # Irish, Welsh, Catalan, Galician, Afrikaans, Albanian, Maltese, Icelandic, Latvian
    r"scríobh|seol|íoc|scrios|abair|cymeradwya|anfon|ysgrifenna|dileu|talu|rho|"
    r"afegeix|escriu|esborra|digues|anota|escribe|"
    r"skakel|stuur|skryf|sê|verwyder|"
    r"shkruaj|dërgo|fshi|paguaj|mirato|thuaj|"
    r"ħallas|ibgħat|ikteb|ħassar|"
    r"afbókaðu|skráðu|sendu|skrifaðu|eyddu|borgaðu|samþykktu|"
    r"uzstādi|nosūti|ieraksti|dzēs|apmaksā|apstiprini|pārskaiti|nurodyk|parašyk|rašyk|"
    # Finnish, Hungarian, Estonian, Romanian, Azerbaijani, Uzbek, Georgian, Armenian
    r"peru|merkitse|kirjoita|hosszabbítsd|engedélyezd|jelezd|add|kirjuta|"
    r"scrie|adaugă|recomandă|göndər|yaz|ödə|təsdiqlə|yechib|yubor|yoz|o'chir|to'la|"
    r"tasdiqla|დაამატე|გაგზავნე|დაწერე|წაშალე|გრიր|գրիր|ուղարկիր|ջնջիր|"
    # French, Dutch, Hebrew, Arabic, Greek
    r"écris|écrivez|réponds|répondez|dis|dites|sla|gebruik|zet|"
    r"סמני|אשרי|רשמי|מזג|כתוב|כתבי|اكتب|عدّل|κατέγραψε|πρότεινε|"
    # Tagalog, Cebuano, Javanese, Indonesian, Vietnamese
    r"isama|ilagay|sabihin|isulti|ipadala|i-send|bayaran|ilipat|burahin|sabihing|"
    r"tulisen|tulis|pindahkan|pilih|hãy|ghi|"
    # Swahili, Somali, Hausa, Igbo, Yoruba, Zulu, Kinyarwanda, Haitian Creole, Amharic
    r"dir|qor|tirtir|rubuta|aika|tura|goge|dee|kọ|bhala|thumela|khokha|susa|"
    r"andika|ohereza|siba|ishyura|voye|ekri|peye|efase|ጻፍ|"
    # Hindi, Marathi, Nepali, Punjabi, Gujarati, Bengali
    r"लिखो|लिखें|बताओ|बताएं|भेजो|भेजें|दें|भन्नुहोस्|लिख्नुहोस्|ਲਿਖੋ|ਭੇਜੋ|"
    r"નોંધો|લખો|મોકલો|লিখুন|জানান|"
    # Tamil, Telugu, Kannada, Malayalam, Sinhala
    r"அனுப்பு\w*|எழுது\w*|పంపండి|వ్రాయండి|చెప్పండి|ಮಾಡಿ|ಬರೆಯಿರಿ|എഴുതുക|അയയ്ക്കുക|"
    r"करें|करो|कीजिए|کریں|کرو|أكد|أكّد|اعتمد|أخبر|ووافق|وأخبر|ලියන්න|යවන්න|அனுப்ப\w*|பறய|"
    r"പറയുക|చెల్లించు|দাও|দিন|করুন|बंद\s+करा|करा|"
    # polite imperatives of the Dravidian languages by their endings (Tamil "-வும்", Malayalam
    # "-ുക", Telugu "-ండి", Kannada "-ಿರಿ"): a mood marker, not a list of verbs
    r"[^\s:：,.;]{1,24}?(?:வும்|ുക|ండి|ಿರಿ)|"
    # Danish, Bulgarian, Portuguese infinitives used as orders
    r"flyt|markér|marker|skriv|tilføj|отбележи|кажи|изпрати|изтрий|напиши|одобри|плати|"
    r"escrever|enviar|pagar|transferir|registar|aprovar|indicar|informar"
)
"""Acts (imperatives) in those languages."""

SCRIPT_READERS = (
    r"ผู้ช่วย|โปรแกรม|บอท|ระบบ|ปัญญาประดิษฐ์|កម្មវិធី|ជំនួយ|စနစ်|လက်ထောက်|"
    r"도우미|에이전트|프로그램|소프트웨어|補助|プログラム|ソフト|智能体|程序|程式|软件|軟體"
)
"""Readers in scripts without spaces between words (no word boundaries)."""

SCRIPT_ACTS = (
    r"ให้|เขียน|ส่ง|กด|บอก|ลบ|ยืนยัน|โอน|សូម|ផ្ញើ|ရေး|ပို့|"
    r"세요|십시오|해라|하라|끄세요|てください|でください|ください|書いて|"
    r"请|請|把|写成|写|登记|登記|提交|送出|改成|改為|改为"
)
"""Acts in those scripts (Thai, Khmer, Burmese, Korean, Japanese, Chinese)."""
